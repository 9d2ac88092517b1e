"""Clients of the platform the SDK works on (``clients.backend``)."""
