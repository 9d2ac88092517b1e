"""Upload actions."""
