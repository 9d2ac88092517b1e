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
        from synapse_sdk.execution.follow import follow_run, result_of

        run_id = prepared.invocation.run_id
        backend = get_backend(self.settings)
        self.submit(prepared, prepared.new_run(is_job=True))
        try:
            return result_of(follow_run(backend, run_id, observers))
        except KeyboardInterrupt:
            self._stop(backend, run_id)
            raise

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
