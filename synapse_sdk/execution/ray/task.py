"""``task`` actions as Ray remote tasks, recorded in the same run backend as local runs.

The caller, the task's owner, submits the task, then creates the PENDING run while Ray
dispatches it, and stores the run's end when the outcome arrives. The task runs
``Action.run_action()`` in a Ray worker, which records RUNNING, progress and logs through the
backend named by the runtime env (``SYNAPSE_HOME`` for the embedded store, ``SYNAPSE_HOST``
for the HTTP one).
Warm path: the plugin folder is uploaded once per content (its URI names the content hash),
the remote function and its options are built once per plugin and resources, and each Ray
worker keeps the loaded plugin class per folder, so a repeated task costs one Ray round trip
plus the run's own record writes. Tasks are not retried: an action may have side effects.
A task submitted in the background (``--job-id``) becomes a Ray job: a task is owned by the
process that started it and would die when the CLI exits.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import socket
import threading
import time
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.backend.schemas import ACTIVE
from synapse_sdk.errors import ActionStopped, ExecutionError, UsageError
from synapse_sdk.execution.ray_cluster import RayExecutor, end_run, ray_reason

if TYPE_CHECKING:
    from synapse_sdk.backend.schemas import NewRun, RunRecord
    from synapse_sdk.execution.runner import Prepared
    from synapse_sdk.plugins.run.sinks import RunSink
    from synapse_sdk.settings import Settings

#: In a Ray worker: (plugin folder, action) -> (config, action class), loaded once. Tasks run in
#: Ray's copy of the plugin folder, named for its content, so a changed plugin is a new folder.
_loaded: dict[tuple[str, str], tuple[Any, Any]] = {}
#: In the caller: the remote function and its options per plugin folder, action, envs, resource
#: flags and settings (config.yaml's resources are the folder's).
_remotes: dict[tuple[Any, ...], Any] = {}
_remote_lock = threading.Lock()


def execute(invocation: bytes, secrets: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one invocation inside a Ray worker; returns ``{"ok", "result" | "error", "end"}``.

    The invocation (run id, action, params, envs) travels as ``marshal`` bytes: Ray ships
    bytes as they are and ``marshal`` reads them back in C, at a fraction of JSON's cost on
    this path (a Ray cluster runs one Python version, and that fixes marshal's format).
    ``secrets`` (the backend's token) is an argument, not in the runtime env that Ray shows.
    The plugin is Ray's copy of its folder, the task's working directory.

    The task's owner keeps the run's books: it created the run, only it can stop the task (it
    cancels it), and it stores the run's end (``end``: ``[status, fields]``) when the outcome
    arrives. So the worker checks nothing before the action starts and stores only its start
    and events. Errors come back as data, not exceptions, so the caller never depends on
    unpickling our exception classes.
    """
    if secrets:
        os.environ.update(secrets)  # a Ray worker serves one driver: its tasks share them
    run_id, name, params, envs = marshal.loads(invocation)
    folder = os.getcwd()
    try:
        config, cls = _load(folder, name)
        action = cls(
            params=params, plugin_config=config, envs=envs, plugin_path=folder, run_id=run_id,
            backend=_worker_backend(),
        )  # fmt: skip
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        end = ["FAILED", {"finished_at": time.time(), "error": f"could not start: {message}"}]
        return {**_failure(exc, message), "end": end}
    ends: list[list[Any]] = []
    action.end_recorder = lambda status, fields: ends.append([str(status), fields])
    try:
        outcome = {"ok": True, "result": action.run_action()}
    except ActionStopped:
        outcome = {"ok": False, "error": "stopped on request", "exit_code": 1}
    except Exception as exc:
        outcome = _failure(exc, f"{type(exc).__name__}: {exc}")
    outcome["end"] = ends[0] if ends else None
    return outcome


def _failure(exc: Exception, message: str) -> dict[str, Any]:
    return {"ok": False, "error": message, "exit_code": getattr(exc, "exit_code", 1)}


def _load(folder: str, action: str) -> tuple[Any, Any]:
    key = (folder, action)
    found = _loaded.get(key)
    if found is None:
        from synapse_sdk.plugins.config import PluginConfig
        from synapse_sdk.plugins.loader import load_action_class

        config = PluginConfig.load(Path(folder))
        found = _loaded[key] = (config, load_action_class(Path(folder), config, action))
    return found


@cache
def _worker_backend() -> Any:
    """The backend this Ray worker reports to: its runtime env names it, once for the worker's life."""
    from synapse_sdk.backend import get_backend

    return get_backend()


def resources(prepared: Prepared, num_cpus: float | None, num_gpus: float | None) -> dict[str, float]:
    """Ray resource options: the flags if given, else the action's config.yaml values."""
    action = prepared.config.actions[prepared.invocation.action]
    chosen = {
        "num_cpus": num_cpus if num_cpus is not None else action.num_cpus,
        "num_gpus": num_gpus if num_gpus is not None else action.num_gpus,
    }
    return {k: v for k, v in chosen.items() if v is not None}


def ray_runtime_env(prepared: Prepared, settings: Settings) -> dict[str, Any]:
    """The Ray runtime env of the action: its ``get_runtime_env()`` plus the backend settings."""
    from synapse_sdk.runtime_env.ray import backend_env_vars, to_ray_runtime_env

    inv = prepared.invocation
    action = prepared.action_class(
        params=inv.params, plugin_config=prepared.config, envs=inv.envs, plugin_path=inv.path,
        run_id=inv.run_id,
    )  # fmt: skip
    return to_ray_runtime_env(
        action.get_runtime_env(), prepared.config.package_manager, extra_env_vars=backend_env_vars(settings)
    )


class RayTaskExecutor(RayExecutor):
    """Runs ``task`` actions as Ray remote tasks on the cluster at ``address``."""

    @staticmethod
    def check(address: str) -> None:
        from synapse_sdk.execution.ray_cluster import connect

        connect(address)

    def run(self, prepared: Prepared, observers: list[RunSink]) -> Any:
        """Run the action as a Ray task, show its events to ``observers``, return its result."""
        inv = prepared.invocation
        store = self.store
        ref = self._start(prepared, store)
        follower = None
        if observers:
            from synapse_sdk.execution.follow import follow_run

            follower = threading.Thread(target=follow_run, args=(store, inv.run_id, observers), daemon=True)
            follower.start()
        try:
            outcome = self._wait(ref, inv.run_id, store)
            if outcome["end"]:
                status, fields = outcome["end"]
                store.transition(inv.run_id, ACTIVE, status, **fields)
        finally:
            if follower is not None:
                follower.join(timeout=5)
        if outcome["ok"]:
            return outcome["result"]
        if outcome.get("exit_code") == UsageError.exit_code:  # refused its input, as a job would
            raise UsageError(f"run {inv.run_id}: {outcome['error']}")
        raise ExecutionError(
            f"action {inv.action!r} failed on Ray: {outcome['error']} "
            f"(run {inv.run_id}; see 'synapse job logs {inv.run_id}')",
            run_id=inv.run_id,
        )

    @cached_property
    def store(self) -> Any:
        """The run backend of this executor's settings."""
        from synapse_sdk.backend import get_backend

        return get_backend(self.settings)

    @cached_property
    def secrets(self) -> dict[str, str] | None:
        """What a worker needs to reach the backend and must not show in its runtime env."""
        from synapse_sdk.runtime_env.ray import backend_secrets

        return backend_secrets(self.settings) or None

    def submit(self, prepared: Prepared, record: NewRun) -> RunRecord:
        """Run it in the background: as a Ray job, since a task dies with the process that owns it."""
        from synapse_sdk.execution.ray_job import RayJobExecutor

        jobs = RayJobExecutor(self.settings, self.address, num_cpus=self.num_cpus, num_gpus=self.num_gpus)
        return jobs.submit(prepared, record)

    def _start(self, prepared: Prepared, store: Any) -> Any:
        """Submit the task, then record it PENDING, owned by this process.

        This process connected to the cluster when the executor was made (``check()``).
        """
        fn = self._remote(prepared)
        # Submitted first, so that recording overlaps Ray's dispatch.
        inv = prepared.invocation
        ref = fn.remote(marshal.dumps((inv.run_id, inv.action, inv.params, inv.envs)), self.secrets)
        record = prepared.new_run(extra={"ray": {"address": self.address, "kind": "task", "owner": owner()}})
        try:
            store.create_run(record)
        except BaseException:
            import ray

            ray.cancel(ref, force=True)  # a task nobody records must not run
            raise
        return ref

    def _remote(self, prepared: Prepared) -> Any:
        """The remote function with this plugin's runtime env and resources, built once.

        The runtime env is computed once per plugin folder, action, envs, resources and backend
        settings: the inputs of ``get_runtime_env()`` (params do not shape an environment).
        """
        inv = prepared.invocation
        flags = (self.num_cpus, self.num_gpus, self.settings)
        key = (inv.plugin_path, inv.action, tuple(inv.envs.items()), flags)
        fn = _remotes.get(key)
        if fn is None:
            with _remote_lock:
                fn = _remotes.get(key)
                if fn is None:
                    fn = _remotes[key] = self._build_remote(prepared)
        return fn

    def _build_remote(self, prepared: Prepared) -> Any:
        """``execute`` as a remote function in the action's runtime env, the plugin uploaded."""
        import ray

        from synapse_sdk.runtime_env.ray import upload_working_dir

        env = ray_runtime_env(prepared, self.settings)
        try:
            uploaded = upload_working_dir(env)
        except Exception as exc:
            raise ExecutionError(f"cannot upload the plugin to Ray: {exc}") from exc
        opts = resources(prepared, self.num_cpus, self.num_gpus)
        return ray.remote(execute).options(runtime_env=uploaded, max_retries=0, **opts)

    def _wait(self, ref: Any, run_id: str, store: Any) -> dict[str, Any]:
        """The task's outcome; Ray's own failures end the run FAILED with Ray's reason."""
        import ray

        try:
            return ray.get(ref)
        except KeyboardInterrupt:
            ray.cancel(ref, force=True)  # the task would die with this process anyway
            end_run(store, run_id, "stopped: interrupted, the Ray task was cancelled", status="STOPPED")
            raise
        except Exception as exc:  # Ray's exception classes are looked up on failure only
            from ray.exceptions import RayError, RuntimeEnvSetupError, TaskCancelledError, WorkerCrashedError

            if isinstance(exc, TaskCancelledError):
                end_run(store, run_id, "stopped: the Ray task was cancelled", status="STOPPED")
                raise ExecutionError(f"run {run_id}: the Ray task was cancelled", run_id=run_id) from exc
            if not isinstance(exc, RayError):
                raise
            if isinstance(exc, RuntimeEnvSetupError):
                reason = f"Ray could not set up the runtime env: {ray_reason(exc)}"
            elif isinstance(exc, WorkerCrashedError):
                reason = f"Ray worker died: {ray_reason(exc)}"
            else:
                reason = f"Ray task failed: {type(exc).__name__}: {ray_reason(exc)}"
            end_run(store, run_id, reason)
            raise ExecutionError(f"run {run_id}: {reason}", run_id=run_id) from exc


@cache
def owner() -> dict[str, Any]:
    """This process as the owner of the tasks it submits: a Ray task dies with its owner."""
    from synapse_sdk.execution.process import start_fingerprint

    return {"host": socket.gethostname(), "pid": os.getpid(), "started": start_fingerprint(os.getpid())}


def owner_gone(record: RunRecord) -> str | None:
    """Why a Ray task's run can never end (its owner on this host has died), or None.

    The owner records the task's end; a task whose owner dies is killed by Ray.
    """
    from synapse_sdk.execution.process import is_alive

    found = (record.extra.get("ray") or {}).get("owner") or {}
    if found.get("host") != socket.gethostname() or is_alive(found.get("pid"), found.get("started")):
        return None
    return f"the process that ran the Ray task (pid {found.get('pid')}) is gone, and the task with it"


def stop(store: Any, record: RunRecord, grace: float = 10.0) -> RunRecord:
    """Stop a Ray task: only its owner can cancel it, so interrupt the owner (like Ctrl-C there).

    The owner cancels the task and records the run STOPPED. An owner that is gone already has
    taken its task with it; one that ignores the interrupt leaves the run STOPPED after ``grace``.
    """
    import signal

    from synapse_sdk.execution.jobs import wait_for_end

    found = record.extra["ray"].get("owner") or {}
    if found.get("host") != socket.gethostname():
        raise UsageError(
            f"Ray task {record.id} is owned by a process on host {found.get('host')!r}, and only its "
            f"owner can cancel it; run 'synapse job stop {record.id}' on {found.get('host')!r}"
        )
    store.update(record.id, stop_requested=1)
    if owner_gone(record) is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(found["pid"], signal.SIGINT)
    ended = wait_for_end(store, record.id, grace)
    if ended is not None:
        return ended
    error = f"stopped: the owner (pid {found['pid']}) did not cancel the task within {grace:g}s"
    end_run(store, record.id, error, status="STOPPED")
    return store.get_run(record.id)
