"""Run an action in this process: ``task`` and ``--debug`` runs here, and the body of every worker."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from synapse_sdk.execution import lifecycle
from synapse_sdk.execution.action_run import run_attached
from synapse_sdk.execution.invocation import Invocation
from synapse_sdk.plugins.config import PluginConfig
from synapse_sdk.plugins.loader import load_action_class
from synapse_sdk.plugins.run.sinks import RunSink

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import RunsResource
    from synapse_sdk.execution.base import RunHandle
    from synapse_sdk.execution.runner import Prepared
    from synapse_sdk.settings import Settings


def run_in_process(
    invocation: Invocation,
    observers: list[RunSink] | None = None,
    *,
    runs: RunsResource | None = None,
    claim: bool = True,
    apply_env: bool = False,
    capture_output: bool = False,
    on_stop_requested: Callable[[], None] | None = None,
) -> Any:
    """Load the action's class from the plugin folder, run it as the invocation's run, return its result.

    ``runs`` is the store the run is recorded in (default: the environment's backend). For
    worker processes that belong to the run: ``apply_env`` first sets the ``env_vars`` of the
    action's ``get_runtime_env()`` in this process's environment, as Ray does on a cluster;
    ``capture_output`` logs what the action prints as entries of its run; ``on_stop_requested``
    is called when the run's store answers that a stop was asked for.
    """
    from synapse_sdk._redact import secret_values
    from synapse_sdk.plugins.run.run import Run
    from synapse_sdk.plugins.run.sinks import BackendSink

    if runs is None:
        from synapse_sdk.backend import get_backend

        runs = get_backend().runs
    config = PluginConfig.load(invocation.path)
    cls = load_action_class(invocation.path, config, invocation.action)
    action = cls(
        params=invocation.params, plugin_config=config, envs=invocation.envs, plugin_path=invocation.path
    )
    run = Run(
        invocation.run_id,
        [BackendSink(runs), *(observers or [])],
        secrets=lambda: secret_values(invocation.params, invocation.envs),
        progress_categories=cls.progress_categories,
        folder=invocation.run_folder(),
        attempt=invocation.attempt or 1,
    )
    run.on_stop_requested = on_stop_requested
    action.run = run
    if apply_env:
        env_vars = action.get_runtime_env().get("env_vars") or {}
        os.environ.update({str(k): str(v) for k, v in env_vars.items()})
    attempt = invocation.attempt
    retry_error = attempt is not None and config.actions[invocation.action].retry.allows("error", attempt)
    if capture_output:
        from synapse_sdk.execution.output import captured

        with captured(run):
            return run_attached(action, runs, claim=claim, attempt=attempt, retry_error=retry_error)
    return run_attached(action, runs, claim=claim, attempt=attempt, retry_error=retry_error)


class LocalExecutor:
    """In this process in the foreground; a detached worker process in the background."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, prepared: Prepared, observers: list[RunSink]) -> Any:
        """Create the run and run the action here (a release with its own env: in its worker process)."""
        if prepared.invocation.python != sys.executable:
            # A release with its own env: its code runs only with that env's interpreter.
            from synapse_sdk.execution.local.subprocess_job import SubprocessJobExecutor

            return SubprocessJobExecutor(self.settings).run(prepared, observers)
        from synapse_sdk.backend import get_backend

        runs = get_backend(self.settings).runs
        lifecycle.create(runs, prepared.new_run())
        return run_in_process(prepared.invocation, observers, runs=runs, claim=False)

    def submit(self, prepared: Prepared) -> RunHandle:
        """Start it as a local background job (a detached worker process) and return at once."""
        from synapse_sdk.execution.local.jobs import submit_job

        return submit_job(prepared, self.settings)
