"""The HTTP backend: the embedded store served over FastAPI, behind a bearer token.

``create_app(settings)`` lives in :mod:`synapse_sdk.backend.server.app`; one router per
resource lives in :mod:`synapse_sdk.backend.server.routes`. Nothing here is imported by the
CLI unless ``synapse backend serve`` runs.
"""
