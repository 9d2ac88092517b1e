"""The plugin-author API: actions, runs, configs and lookups."""

from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.config import ActionConfig, PluginConfig
from synapse_sdk.plugins.loader import LoadedPlugin, load_plugin
from synapse_sdk.plugins.models import PluginRelease, Run
from synapse_sdk.plugins.utils import get_action_class

__all__ = [
    "Action",
    "ActionConfig",
    "LoadedPlugin",
    "PluginConfig",
    "PluginRelease",
    "Run",
    "get_action_class",
    "load_plugin",
]
