"""Background jobs: a detached supervisor process runs the worker and records how it ended."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from synapse_sdk.backend.schemas import ACTIVE, NewRun, RunRecord, RunStatus
from synapse_sdk.backend.store.runs import RunStore
from synapse_sdk.errors import ExecutionError, UsageError
from synapse_sdk.execution.invocation import Invocation
from synapse_sdk.execution.process import is_alive
from synapse_sdk.plugins.run.run import HEARTBEAT_INTERVAL
from synapse_sdk.settings import Settings

JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
#: A worker on another host that has not heartbeated for this long is declared lost.
REMOTE_HEARTBEAT_TIMEOUT = 15.0


def check_job_id(job_id: str) -> str:
    """Job ids are 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit."""
    if not JOB_ID.match(job_id):
        raise UsageError(
            f"--job-id {job_id!r}: use 1-128 letters, digits, '.', '_' or '-' "
            "starting with a letter or digit, like 'train-2024-01'"
        )
    return job_id


def job_dir(settings: Settings, run_id: str) -> Path:
    """The folder holding a job's worker output."""
    return settings.jobs_dir / run_id


def submit_job(invocation: Invocation, record: NewRun, store: RunStore, settings: Settings) -> RunRecord:
    """Create the PENDING run and start its detached supervisor; returns at once."""
    created = store.create_run(record.model_copy(update={"is_job": True}))
    folder = job_dir(settings, invocation.run_id)
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SYNAPSE_HOME": str(settings.home)}
    with open(folder / "supervisor.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "synapse_sdk.execution.supervisor"],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env=env,
            cwd=invocation.plugin_path,
        )
    assert proc.stdin is not None
    proc.stdin.write(invocation.to_json().encode())
    proc.stdin.close()
    store.update(invocation.run_id, supervisor_pid=proc.pid, host=socket.gethostname())
    return created


def refresh(store: RunStore, record: RunRecord) -> RunRecord:
    """Notice a dead worker: an active run whose processes are gone becomes FAILED, logs kept."""
    if record.status not in ACTIVE:
        return record
    kind = (record.extra.get("ray") or {}).get("kind")
    if kind in ("job", "serve"):
        from synapse_sdk.execution import ray_job  # Ray knows how its jobs and Serve apps are doing

        return ray_job.refresh(store, record)
    reason = None
    if kind == "task":  # a pooled Ray worker outlives the task: its owner's life is what counts
        from synapse_sdk.execution.ray_task import owner_gone

        reason = owner_gone(record) or _silent(record)
    elif record.host == socket.gethostname():
        fingerprint = store.pid_started(record.id)
        pids = [p for p in (record.pid, record.supervisor_pid) if p]
        if pids and not any(is_alive(p, fingerprint if p == record.pid else None) for p in pids):
            reason = f"worker died: process {record.pid or record.supervisor_pid} is gone"
    else:
        reason = _silent(record)
    if reason is None:
        return record
    status = RunStatus.STOPPED if record.stop_requested else RunStatus.FAILED
    store.transition(record.id, ACTIVE, status, finished_at=time.time(), error=reason)
    return store.get_run(record.id)


def _stop_elsewhere(store: RunStore, record: RunRecord, grace: float) -> RunRecord:
    """A worker on another host learns of the stop from the answer to its next heartbeat.

    Its pids mean nothing here, so nothing is signalled or killed from this host: the worker
    stops itself (as on SIGTERM), or is declared lost when its heartbeats stop.
    """
    ended = wait_for_end(store, record.id, grace + 2 * HEARTBEAT_INTERVAL, poll=0.2)
    if ended is not None:
        return ended
    raise ExecutionError(
        f"job {record.id} on host {record.host!r} has not stopped within {grace:g}s; the stop stays "
        "requested (a worker that ignores it is declared lost once its heartbeats stop)",
        run_id=record.id,
    )


def wait_for_end(store: RunStore, run_id: str, timeout: float, poll: float = 0.1) -> RunRecord | None:
    """The run's record once it has ended (dead workers noticed on the way), or None after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = refresh(store, store.get_run(run_id))
        if record.status.is_terminal:
            return record
        time.sleep(poll)
    return None


def _silent(record: RunRecord) -> str | None:
    """Why a run reported from elsewhere is lost (no heartbeat for too long), or None."""
    if record.heartbeat_at and time.time() - record.heartbeat_at > REMOTE_HEARTBEAT_TIMEOUT:
        return f"worker lost: no heartbeat for {time.time() - record.heartbeat_at:.0f}s"
    return None


def stop_job(store: RunStore, run_id: str, grace: float = 10.0) -> RunRecord:
    """Stop a job and return its record once it has ended.

    On this host: SIGTERM, then SIGKILL after ``grace`` seconds. On another host: the answer
    to the worker's next heartbeat. On Ray: through Ray (jobs, Serve) or the task's owner.
    """
    record = refresh(store, store.get_run(run_id))
    if record.status.is_terminal:
        return record
    kind = (record.extra.get("ray") or {}).get("kind")
    if kind in ("job", "serve"):
        from synapse_sdk.execution import ray_job

        return ray_job.stop(store, record, grace)
    if kind == "task":
        from synapse_sdk.execution import ray_task

        return ray_task.stop(store, record, grace)
    store.update(run_id, stop_requested=1)
    if record.host and record.host != socket.gethostname():
        return _stop_elsewhere(store, record, grace)
    target = record.pid or record.supervisor_pid
    if target is None:
        store.transition(run_id, ACTIVE, RunStatus.STOPPED, finished_at=time.time(),
                         error="stopped before it started")  # fmt: skip
        return store.get_run(run_id)
    _signal(target, signal.SIGTERM)
    ended = wait_for_end(store, run_id, grace)
    if ended is not None:
        return ended
    record = store.get_run(run_id)
    for pid in (record.pid, record.supervisor_pid):
        if pid:
            _signal(pid, signal.SIGKILL)
    store.transition(run_id, ACTIVE, RunStatus.STOPPED, finished_at=time.time(),
                     error=f"stopped: killed after {grace:g}s grace")  # fmt: skip
    return store.get_run(run_id)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
