"""Run an action in this process (the ``task`` method and ``--debug``)."""

from __future__ import annotations

from typing import Any

from synapse_sdk.execution.invocation import Invocation
from synapse_sdk.plugins.config import PluginConfig
from synapse_sdk.plugins.loader import load_action_class
from synapse_sdk.plugins.run.sinks import RunSink


def run_in_process(invocation: Invocation, observers: list[RunSink] | None = None) -> Any:
    """Load the action's class from the plugin folder, run it, and return its result."""
    config = PluginConfig.load(invocation.path)
    cls = load_action_class(invocation.path, config, invocation.action)
    action = cls(
        params=invocation.params,
        plugin_config=config,
        envs=invocation.envs,
        plugin_path=invocation.path,
        run_id=invocation.run_id,
        observers=observers,
    )
    return action.run_action()
