"""Run an action in this process (the ``task`` method and ``--debug``), or as a local background job."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from synapse_sdk.execution.invocation import Invocation
from synapse_sdk.plugins.config import PluginConfig
from synapse_sdk.plugins.loader import load_action_class
from synapse_sdk.plugins.run.sinks import RunSink

if TYPE_CHECKING:
    from synapse_sdk.backend.schemas import NewRun, RunRecord
    from synapse_sdk.execution.runner import Prepared
    from synapse_sdk.settings import Settings


def run_in_process(
    invocation: Invocation,
    observers: list[RunSink] | None = None,
    *,
    apply_env: bool = False,
    capture_output: bool = False,
    on_stop_requested: Callable[[], None] | None = None,
) -> Any:
    """Load the action's class from the plugin folder, run it, and return its result.

    For worker processes that belong to the run: ``apply_env`` first sets the ``env_vars`` of
    the action's ``get_runtime_env()`` in this process's environment, as Ray does on a cluster;
    ``capture_output`` logs what the action prints as entries of its run; ``on_stop_requested``
    is called when the run's store answers that a stop was asked for.
    """
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
    action.run.on_stop_requested = on_stop_requested
    if apply_env:
        import os

        env_vars = action.get_runtime_env().get("env_vars") or {}
        os.environ.update({str(k): str(v) for k, v in env_vars.items()})
    if capture_output:
        from synapse_sdk.execution.output import captured

        with captured(action.run):
            return action.run_action()
    return action.run_action()


class LocalExecutor:
    """In this process in the foreground; a detached worker process in the background."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, prepared: Prepared, observers: list[RunSink]) -> Any:
        import sys

        if prepared.invocation.python != sys.executable:
            # A release with its own env: its code runs only with that env's interpreter.
            from synapse_sdk.execution.subprocess_job import SubprocessJobExecutor

            return SubprocessJobExecutor(self.settings).run(prepared, observers)
        return run_in_process(prepared.invocation, observers)

    def submit(self, prepared: Prepared, record: NewRun) -> RunRecord:
        from synapse_sdk.backend import get_backend
        from synapse_sdk.execution.jobs import submit_job

        store = get_backend(self.settings)
        return submit_job(prepared.invocation, record, store, self.settings)
