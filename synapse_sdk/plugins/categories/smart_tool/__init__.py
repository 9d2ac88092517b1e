"""Smart-tool actions: AI-assisted automation such as auto-labelling."""

from synapse_sdk.plugins.categories.smart_tool.auto_label import AutoLabelAction

__all__ = [
    "AutoLabelAction",
]
