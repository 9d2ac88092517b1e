"""``job`` actions through the Ray Jobs API; ``synapse job get/logs/stop`` map onto Ray's job.

The submission id is the run id. The run record keeps ``extra["ray"] = {"address",
"dashboard", "submission_id", "kind": "job"}`` so any later ``synapse job`` command can ask
Ray how the job is doing (:class:`RayJobHandle`). The job's entrypoint is
``python -m synapse_sdk.execution.ray.job``
in the uploaded plugin folder; it runs the action like a local worker does, reporting to the
backend named by the runtime env. The invocation (params, secrets included) and the backend's
token travel as a tiny package in the job's ``py_modules``, which Ray stores in the cluster and
does not show; ``SYNAPSE_INVOCATION`` only names it (Ray shows every runtime-env variable).
A job that fails before the action starts (a requirement that does not install, a missing
interpreter) ends FAILED with Ray's reason, and the tail of Ray's job log is kept in the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.backend.schemas import RunRecord, RunStatus
from synapse_sdk.errors import ExecutionError
from synapse_sdk.execution import lifecycle
from synapse_sdk.execution.base import BaseHandle, Lost, silence
from synapse_sdk.execution.invocation import Invocation
from synapse_sdk.execution.ray.cluster import RayExecutor, job_client, ray_reason, ray_runtime_env, resources

if TYPE_CHECKING:
    from synapse_sdk.execution.runner import Prepared
    from synapse_sdk.plugins.run.sinks import RunSink

ENTRYPOINT = "python -m synapse_sdk.execution.ray.job"
INVOCATION_ENV = "SYNAPSE_INVOCATION"
INVOCATION_FILE = "invocation.json"
SECRETS_FILE = "environ.json"
#: Clusters that did not answer in this process (not asked again for every listed run).
_unreachable: set[str] = set()
#: Lines of Ray's own job log copied into a run that failed before its action recorded anything.
LOG_TAIL = 40


class RayJobExecutor(RayExecutor):
    """Submits ``job`` actions to the Ray Jobs API of the cluster at ``address``."""

    @staticmethod
    def check(address: str) -> None:
        job_client(address)

    def run(self, prepared: Prepared, observers: list[RunSink]) -> Any:
        """Submit, follow the run's events until it ends, and return its result or raise."""
        from synapse_sdk.execution.follow import follow_run, result_of

        return result_of(follow_run(self.submit(prepared), observers), " on Ray")

    def submit(self, prepared: Prepared) -> RayJobHandle:
        """Create the PENDING run and submit it as a Ray job with the same id; returns its handle at once."""
        from synapse_sdk.backend import get_backend
        from synapse_sdk.runtime_env.ray import backend_secrets

        client = job_client(self.address)
        inv = prepared.invocation
        env = ray_runtime_env(prepared, self.settings)
        opts = resources(prepared, self.num_cpus, self.num_gpus)
        ray_info = {
            "address": self.address,
            "dashboard": client.get_address(),
            "submission_id": inv.run_id,
            "kind": "job",
        }
        runs = get_backend(self.settings).runs
        record = lifecycle.create(runs, prepared.new_run(is_job=True, extra={"ray": ray_info}))
        try:
            with invocation_package(prepared, backend_secrets(self.settings)) as (name, folder):
                env.setdefault("env_vars", {})[INVOCATION_ENV] = name
                env["py_modules"] = [*env.get("py_modules", []), str(folder)]
                client.submit_job(  # uploads the package: the folder is not needed after
                    entrypoint=ENTRYPOINT,
                    submission_id=inv.run_id,
                    runtime_env=env,
                    entrypoint_num_cpus=opts.get("num_cpus"),
                    entrypoint_num_gpus=opts.get("num_gpus"),
                    metadata={
                        "synapse_run_id": inv.run_id,
                        "plugin": prepared.config.uri,
                        "action": inv.action,
                    },
                )
        except Exception as exc:
            reason = f"Ray did not accept the job: {ray_reason(exc)}"
            lifecycle.fail(runs, inv.run_id, reason)
            raise ExecutionError(f"run {inv.run_id}: {reason}", run_id=inv.run_id) from exc
        return RayJobHandle(runs, record)


@contextmanager
def invocation_package(prepared: Prepared, secrets: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """A private temporary package holding the invocation and the secret env vars of the job
    (the backend's token): its module name and its folder."""
    name = f"synapse_invocation_{uuid.uuid4().hex}"
    with tempfile.TemporaryDirectory(prefix="synapse-invocation-") as tmp:  # readable by us only
        folder = Path(tmp) / name
        folder.mkdir()
        (folder / "__init__.py").write_text('"""The invocation of one Synapse Ray job."""\n')
        (folder / INVOCATION_FILE).write_text(prepared.invocation.to_json(), encoding="utf-8")
        (folder / SECRETS_FILE).write_text(json.dumps(secrets), encoding="utf-8")
        yield name, folder


def read_invocation(name: str) -> Invocation:
    """The invocation shipped as package ``name``, run in this job's working dir and interpreter.

    The package's secret env vars are set in this process on the way.
    """
    from importlib import resources

    package = resources.files(name)
    os.environ.update(json.loads(package.joinpath(SECRETS_FILE).read_text(encoding="utf-8")))
    text = package.joinpath(INVOCATION_FILE).read_text(encoding="utf-8")
    return replace(Invocation.from_json(text), plugin_path=str(Path.cwd()), python=sys.executable)


# -- what `synapse job get/logs/stop` do for a run submitted to Ray ---------------------------------


class RayJobHandle(BaseHandle):
    """A run submitted to the Ray Jobs API: Ray says whether its job lives (unreachable: the silence rule)."""

    kind = "job"

    def lost(self, record: RunRecord) -> Lost | None:
        """Why Ray's job ended without the run recording its end, or None while it runs."""
        info = _job_info(record)
        if info is None:
            return silence(record, "Ray cluster unreachable and ")
        status = str(getattr(info.status, "value", info.status))
        if status in ("PENDING", "RUNNING"):
            return None
        if status == "STOPPED" or record.stop_requested:
            lost = Lost("stopped: the Ray job was stopped", RunStatus.STOPPED)
        elif status == "FAILED":
            lost = Lost(f"Ray job failed: {ray_reason(info.message or 'no reason given')}", RunStatus.FAILED)
        else:
            lost = Lost(f"Ray job ended {status} without recording an outcome", RunStatus.FAILED)
        _keep_ray_log_tail(self.runs, record, info.message)
        return lost

    def stop(self, grace: float = 10.0) -> RunRecord:
        """Stop the Ray job (SIGTERM, Ray kills it after its own timeout) and wait for the outcome."""
        record = self.record
        ray_info = record.extra["ray"]
        lifecycle.request_stop(self.runs, record.id)
        client = job_client(ray_info.get("dashboard") or ray_info["address"])
        try:
            client.stop_job(ray_info["submission_id"])
        except Exception as exc:
            raise ExecutionError(f"Ray could not stop job {record.id!r}: {exc}", run_id=record.id) from exc
        ended = self.wait_for_end(grace + 5, poll=0.2)
        if ended is not None:
            return ended
        lifecycle.stop(self.runs, record.id, f"stopped: Ray job did not end within {grace + 5:g}s")
        return self.refresh()


def _job_info(record: RunRecord) -> Any:
    ray_info = record.extra["ray"]
    address = ray_info.get("dashboard") or ray_info["address"]
    if address in _unreachable:
        return None
    try:
        client = job_client(address)
    except Exception:  # noqa: BLE001 - an unreachable cluster must not break `synapse job list`
        _unreachable.add(address)  # ask once per process, not once per listed run
        return None
    try:
        return client.get_job_info(ray_info["submission_id"])
    except Exception:  # noqa: BLE001 - e.g. a job the cluster forgot after a restart: leave the run as is
        return None


def _keep_ray_log_tail(runs: Any, record: RunRecord, message: str | None) -> None:
    """Copy Ray's reason and the end of its job log into a run whose action logged nothing."""
    from synapse_sdk.backend.schemas import EventBatch

    if runs.count_logs(record.id):
        return
    ray_info = record.extra["ray"]
    text = ""
    try:
        client = job_client(ray_info.get("dashboard") or ray_info["address"])
        text = client.get_job_logs(ray_info["submission_id"])
    except Exception:  # noqa: BLE001 - the log tail is a courtesy; the status change must happen
        pass
    lines = [line for line in f"{message or ''}\n{text}".splitlines() if line.strip()][-LOG_TAIL:]
    now = time.time()
    rows: list[tuple[float, str, str | None, str | None, Any]] = [
        (now, "ERROR", f"[ray] {line}", None, None) for line in lines
    ]
    if rows:
        runs.write_events(record.id, EventBatch(logs=rows))


# -- the job's entrypoint, inside the cluster --------------------------------------------------------


def main() -> int:
    """Run the invocation of package ``SYNAPSE_INVOCATION`` in the uploaded plugin folder (the cwd).

    An action with no retry runs here, in the job's driver. One whose config.yaml says
    ``retry`` runs each try in a worker process this driver supervises, as a local job's
    supervisor does (:mod:`synapse_sdk.execution.attempts`): a killed worker is tried again
    under the same run, in the same Ray job.
    """
    from synapse_sdk.execution.attempts import begin_in_process, retry_policy
    from synapse_sdk.execution.local.worker import run_worker

    invocation = read_invocation(os.environ.pop(INVOCATION_ENV))
    if os.path.isdir(invocation.cwd):  # the user's folder, when the cluster shares this machine's files
        os.chdir(invocation.cwd)
    retry = retry_policy(invocation)
    if retry.max_attempts > 1:
        return _supervise(invocation, retry)
    from synapse_sdk.backend import get_backend

    with contextlib.suppress(Exception):  # a backend out of reach: the worker says so, with the reason
        invocation = begin_in_process(get_backend().runs, invocation)
    return run_worker(invocation, apply_env=False)  # Ray has set the runtime env's variables


def _supervise(invocation: Invocation, retry: Any) -> int:
    """Try the action in worker processes until its run ends; the driver's exit code says how it ended."""
    import signal
    import subprocess
    from collections.abc import Callable

    from synapse_sdk.backend import get_backend
    from synapse_sdk.execution.attempts import supervise
    from synapse_sdk.execution.local.jobs import working_dir

    # Ray stops a job by signalling its driver and every child: the worker ends its run STOPPED
    # itself, and this driver waits for it to say so instead of dying first. (A handler, not
    # SIG_IGN: the worker's exec resets a handler, where it would inherit SIG_IGN.)
    signal.signal(signal.SIGTERM, _outlive_the_worker)

    def run_worker(attempt: Invocation, started: Callable[[int], None]) -> int:
        proc = subprocess.Popen(
            [sys.executable, "-m", "synapse_sdk.execution.local.worker"],
            stdin=subprocess.PIPE,
            cwd=working_dir(attempt.cwd, attempt.plugin_path),
        )
        started(proc.pid)
        assert proc.stdin is not None
        proc.stdin.write(attempt.to_json().encode())
        proc.stdin.close()
        return proc.wait()

    record = supervise(get_backend().runs, invocation, retry, run_worker)
    return {RunStatus.SUCCEEDED: 0, RunStatus.STOPPED: 143}.get(record.status, 1)


def _outlive_the_worker(signum: int, frame: Any) -> None:
    """The driver's SIGTERM: nothing to do, the worker it supervises got the same signal."""


if __name__ == "__main__":
    sys.exit(main())
