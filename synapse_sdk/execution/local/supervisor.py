"""``python -m synapse_sdk.execution.local.supervisor``: start a job's worker and record how it ended.

It reads the invocation on stdin, runs the worker with the invocation's interpreter in the
user's folder, waits, and if the worker ended without recording an outcome (killed, crashed)
tries it again when the action's ``retry`` policy allows, or else marks the run FAILED with the
reason ("worker died: signal 9 (SIGKILL)"), or STOPPED if a stop was asked (see
:mod:`synapse_sdk.execution.attempts`).

The worker's output reaches ``jobs/<id>/worker.log`` through this process, line by line with the
run's secrets masked: also what is written below Python (a subprocess, a C library).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable

from synapse_sdk._redact import Masker, secret_values
from synapse_sdk.backend import get_backend
from synapse_sdk.execution.attempts import retry_policy, supervise
from synapse_sdk.execution.invocation import Invocation
from synapse_sdk.execution.local.jobs import job_dir, working_dir
from synapse_sdk.execution.output import copy_masked
from synapse_sdk.settings import Settings

#: Seconds the output is still copied after the worker ended (a process it left behind may keep
#: the pipe open; the outcome is not held back for it).
DRAIN_SECONDS = 2.0


def main() -> int:
    """Run one job to its end, trying it again as its retry policy says."""
    invocation = Invocation.from_json(sys.stdin.read())
    settings = Settings.from_env()
    runs = get_backend(settings).runs
    folder = job_dir(settings, invocation.run_id)
    folder.mkdir(parents=True, exist_ok=True)
    masker = Masker(secret_values(invocation.params, invocation.envs))
    with open(folder / "worker.log", "ab") as log:

        def run_worker(attempt: Invocation, started: Callable[[int], None]) -> int:
            proc = subprocess.Popen(
                [attempt.python, "-m", "synapse_sdk.execution.local.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=working_dir(attempt.cwd, attempt.plugin_path),
            )
            started(proc.pid)
            assert proc.stdin is not None
            assert proc.stdout is not None
            copier = threading.Thread(target=copy_masked, args=(proc.stdout, log, masker), daemon=True)
            copier.start()
            proc.stdin.write(attempt.to_json().encode())
            proc.stdin.close()
            returncode = proc.wait()
            copier.join(DRAIN_SECONDS)
            return returncode

        supervise(runs, invocation, retry_policy(invocation), run_worker)
    return 0


if __name__ == "__main__":
    sys.exit(main())
