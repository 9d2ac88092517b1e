"""``python -m synapse_sdk.execution.supervisor``: start a job's worker and record how it ended.

It reads the invocation on stdin, runs the worker with the invocation's interpreter, waits,
and if the worker ended without recording an outcome (killed, crashed) marks the run
FAILED with the reason ("worker died: signal 9 (SIGKILL)"), or STOPPED if a stop was asked.
"""

from __future__ import annotations

import subprocess
import sys
import time

from synapse_sdk.backend import get_backend
from synapse_sdk.backend.schemas import ACTIVE, RunStatus
from synapse_sdk.execution.invocation import Invocation
from synapse_sdk.execution.jobs import job_dir
from synapse_sdk.execution.process import describe_exit, start_fingerprint
from synapse_sdk.settings import Settings


def main() -> int:
    """Run one job to its end."""
    invocation = Invocation.from_json(sys.stdin.read())
    settings = Settings.from_env()
    store = get_backend(settings)
    folder = job_dir(settings, invocation.run_id)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "worker.log", "ab") as log:
        proc = subprocess.Popen(
            [invocation.python, "-m", "synapse_sdk.execution.worker"],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=log,
            cwd=invocation.plugin_path,
        )
        store.update(invocation.run_id, pid=proc.pid, pid_started=start_fingerprint(proc.pid))
        assert proc.stdin is not None
        proc.stdin.write(invocation.to_json().encode())
        proc.stdin.close()
        returncode = proc.wait()
    record = store.get_run(invocation.run_id)
    if record.status in ACTIVE:
        how = describe_exit(returncode)
        if record.stop_requested:
            status, error = RunStatus.STOPPED, f"stopped: worker ended by {how}"
        else:
            status, error = RunStatus.FAILED, f"worker died: {how}"
        store.transition(invocation.run_id, ACTIVE, status, finished_at=time.time(), error=error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
