"""The ``job`` method on this machine: a worker subprocess the CLI waits for and streams from.

The job is submitted exactly like a background job (``local.jobs.submit_job``: detached supervisor,
worker with the invocation's interpreter, recorded as a job), then followed from the run
backend. Ctrl-C stops the worker (SIGTERM, then SIGKILL after ``STOP_GRACE`` seconds or a
second Ctrl-C) and the run ends STOPPED.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synapse_sdk.execution.base import RunHandle
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
        from synapse_sdk.execution.follow import follow_run, result_of

        handle = self.submit(prepared)
        try:
            return result_of(follow_run(handle, observers))
        except KeyboardInterrupt:
            self._stop(handle)
            raise

    def submit(self, prepared: Prepared) -> RunHandle:
        """Start the job in the background and return its handle at once."""
        from synapse_sdk.execution.local.jobs import submit_job

        return submit_job(prepared, self.settings)

    @staticmethod
    def _stop(handle: RunHandle) -> None:
        run_id = handle.run_id
        print(f"stopping run {run_id} (Ctrl-C again to kill it now)...", file=sys.stderr, flush=True)
        try:
            record = handle.stop(grace=STOP_GRACE)
        except KeyboardInterrupt:
            record = handle.stop(grace=0)
        print(f"run {run_id} {record.status.value}: {record.error or ''}", file=sys.stderr, flush=True)
