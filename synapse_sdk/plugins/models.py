"""The spec's plugin models: ``PluginRelease`` and ``Run``."""

from synapse_sdk.plugins.release import PluginRelease
from synapse_sdk.plugins.run.run import Run

__all__ = [
    "PluginRelease",
    "Run",
]
