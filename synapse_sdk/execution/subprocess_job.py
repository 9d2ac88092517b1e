"""The ``job`` method on this machine: a worker subprocess the CLI waits for and streams from.

The job is submitted exactly like a background job (``jobs.submit_job``: detached supervisor,
worker with the invocation's interpreter, recorded as a job), then followed from the run
backend. Ctrl-C stops the worker (SIGTERM, then SIGKILL after ``STOP_GRACE`` seconds or a
second Ctrl-C) and the run ends STOPPED.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synapse_sdk.backend.schemas import NewRun, RunRecord
    from synapse_sdk.execution.runner import Prepared
    from synapse_sdk.plugins.run.sinks import RunSink
    from synapse_sdk.settings import Settings

#: Seconds a stopped worker gets to end cleanly before it is killed.
STOP_GRACE = 5.0


class SubprocessJobExecutor:
    """Runs a ``job`` action in a worker process and waits for it in the foreground."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, prepared: Prepared, observers: list[RunSink]) -> Any:
        """Submit, stream logs and progress to ``observers`` until the end; return the result."""
        from synapse_sdk.backend import get_backend
        from synapse_sdk.backend.schemas import RunStatus
        from synapse_sdk.errors import ExecutionError, UsageError
        from synapse_sdk.execution.follow import follow_run
        from synapse_sdk.plugins.categories.base import run_record

        inv = prepared.invocation
        record = run_record(
            inv.run_id, inv.action, prepared.config, inv.params, inv.envs,
            category=prepared.action_class.category, is_job=True,
        )  # fmt: skip
        backend = get_backend(self.settings)
        self.submit(prepared, record)
        try:
            final = follow_run(backend, inv.run_id, observers)
        except KeyboardInterrupt:
            self._stop(backend, inv.run_id)
            raise
        if final.status is RunStatus.SUCCEEDED:
            return final.result
        if final.extra.get("exit_code") == UsageError.exit_code:
            raise UsageError(final.error or "the job refused its input")
        raise ExecutionError(
            f"action {inv.action!r} {final.status.value.lower()}: {final.error or 'no reason recorded'} "
            f"(run {inv.run_id}; see 'synapse job logs {inv.run_id}')",
            run_id=inv.run_id,
        )

    def submit(self, prepared: Prepared, record: NewRun) -> RunRecord:
        """Start the job in the background and return at once."""
        from synapse_sdk.backend import get_backend
        from synapse_sdk.execution.jobs import submit_job

        return submit_job(prepared.invocation, record, get_backend(self.settings), self.settings)

    @staticmethod
    def _stop(backend: Any, run_id: str) -> None:
        from synapse_sdk.execution.jobs import stop_job

        print(f"stopping run {run_id} (Ctrl-C again to kill it now)...", file=sys.stderr, flush=True)
        try:
            record = stop_job(backend, run_id, grace=STOP_GRACE)
        except KeyboardInterrupt:
            record = stop_job(backend, run_id, grace=0)
        print(f"run {run_id} {record.status.value}: {record.error or ''}", file=sys.stderr, flush=True)
