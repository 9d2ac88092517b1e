"""Look up action classes by category and action name (the spec's programmatic entry point)."""

from synapse_sdk.plugins.registry import get_action_class

__all__ = [
    "get_action_class",
]
