"""Background jobs on this machine: a detached supervisor process runs the worker and records how it ended.

:class:`LocalHandle` is also the handle of every run executed by a process of this machine
(in-process runs, the development server): such a run lives as long as its process does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from synapse_sdk.backend.schemas import RUN_ID, RunRecord
from synapse_sdk.errors import BackendError, ExecutionError, UsageError
from synapse_sdk.execution import lifecycle
from synapse_sdk.execution.base import BaseHandle, Lost, silence
from synapse_sdk.execution.local.process import is_alive
from synapse_sdk.plugins.run.run import HEARTBEAT_INTERVAL
from synapse_sdk.settings import folder_problem, make_folder, os_reason

if TYPE_CHECKING:
    from synapse_sdk.execution.runner import Prepared
    from synapse_sdk.settings import Settings


def check_job_id(job_id: str) -> str:
    """Job ids are 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit."""
    if RUN_ID.fullmatch(job_id) is None:
        raise UsageError(
            f"--job-id {job_id!r}: use 1-128 letters, digits, '.', '_' or '-' "
            "starting with a letter or digit, like 'train-2024-01'"
        )
    return job_id


def job_dir(settings: Settings, run_id: str) -> Path:
    """The folder holding a job's supervisor and worker output."""
    return settings.jobs_dir / run_id


def submit_job(prepared: Prepared, settings: Settings) -> LocalHandle:
    """Create the PENDING run and start its detached supervisor; returns at once.

    The job's folder and its ``supervisor.log`` are made first: a home whose ``jobs/`` cannot
    be written is a ``BackendError`` naming it, and no run is created.
    """
    from synapse_sdk.backend import get_backend

    invocation = prepared.invocation
    runs = get_backend(settings).runs
    make_folder(settings.jobs_dir)  # first: an error names jobs/ itself, not the folder of a job never made
    folder = make_folder(job_dir(settings, invocation.run_id))
    env = {**os.environ, "SYNAPSE_HOME": str(settings.home)}
    with _open_log(folder / "supervisor.log") as log:
        record = lifecycle.create(runs, prepared.new_run(is_job=True))
        proc = subprocess.Popen(
            [sys.executable, "-m", "synapse_sdk.execution.local.supervisor"],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env=env,
            cwd=working_dir(invocation.cwd, invocation.plugin_path),
        )
    assert proc.stdin is not None
    proc.stdin.write(invocation.to_json().encode())
    proc.stdin.close()
    runs.update(invocation.run_id, supervisor_pid=proc.pid, host=socket.gethostname())
    return LocalHandle(runs, record)


def _open_log(path: Path) -> BinaryIO:
    """``path`` opened to append to; one that cannot be is a ``BackendError`` naming it and the fix."""
    try:
        return open(path, "ab")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        raise BackendError(f"cannot write {path} ({os_reason(exc)}): {folder_problem(path.parent)}") from exc


def working_dir(cwd: str, fallback: str) -> str:
    """The folder a worker runs in: the user's (relative paths in params resolve there) if it exists."""
    return cwd if os.path.isdir(cwd) else fallback


class LocalHandle(BaseHandle):
    """A run executed by a process of this machine (or reporting from another host): pids and heartbeats."""

    kind = None

    def lost(self, record: RunRecord) -> Lost | None:
        """Its processes here are gone; from another host, it has been silent too long."""
        if record.host != socket.gethostname():
            return silence(record)
        pids = [p for p in (record.pid, record.supervisor_pid) if p]
        if not pids:
            return None
        fingerprint = self.runs.pid_started(record.id)
        if any(is_alive(p, fingerprint if p == record.pid else None) for p in pids):
            return None
        return Lost(f"worker died: process {record.pid or record.supervisor_pid} is gone")

    def stop(self, grace: float = 10.0) -> RunRecord:
        """SIGTERM, then SIGKILL after ``grace`` seconds; on another host, the answer to its next flush."""
        record = self.record
        lifecycle.request_stop(self.runs, record.id)
        if record.host and record.host != socket.gethostname():
            return self._stop_elsewhere(grace)
        target = record.pid or record.supervisor_pid
        if target is None:
            lifecycle.stop(self.runs, record.id, "stopped before it started")
            return self.refresh()
        _signal(target, signal.SIGTERM)
        ended = self.wait_for_end(grace)
        if ended is not None:
            return ended
        record = self.runs.get_run(record.id)
        for pid in (record.pid, record.supervisor_pid):
            if pid:
                _signal(pid, signal.SIGKILL)
        lifecycle.stop(self.runs, record.id, f"stopped: killed after {grace:g}s grace")
        return self.refresh()

    def _stop_elsewhere(self, grace: float) -> RunRecord:
        """A worker on another host learns of the stop from the answer to its next heartbeat.

        Its pids mean nothing here, so nothing is signalled or killed from this host: the worker
        stops itself (as on SIGTERM), or is declared lost when its heartbeats stop.
        """
        ended = self.wait_for_end(grace + 2 * HEARTBEAT_INTERVAL, poll=0.2)
        if ended is not None:
            return ended
        raise ExecutionError(
            f"job {self.run_id} on host {self.record.host!r} has not stopped within {grace:g}s; the stop "
            "stays requested (a worker that ignores it is declared lost once its heartbeats stop)",
            run_id=self.run_id,
        )


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
