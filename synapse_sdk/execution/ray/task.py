"""``task`` actions as Ray remote tasks, recorded in the same run backend as local runs.

The caller, the task's owner, submits the task, then creates the PENDING run while Ray
dispatches it, and stores the run's end when the outcome arrives. The task runs the action
in a Ray worker, which records RUNNING, progress and logs through the backend named by the
runtime env (``SYNAPSE_HOME`` for the embedded store, ``SYNAPSE_HOST`` for the HTTP one).
Warm path: the plugin folder is uploaded once per content (its URI names the content hash),
the remote function and its options are built once per plugin and resources, and each Ray
worker keeps the loaded plugin class per folder, so a repeated task costs one Ray round trip
plus the run's own record writes. Tasks are not retried: an action may have side effects.
A task is owned by the process that started it and dies with it: ``submit()`` keeps the
owner's books on a thread of this process (for a long-lived caller, such as a notebook); the
CLI's background runs (``--job-id``) go to Ray Jobs instead (see ``get_executor``).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import socket
import threading
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.backend.schemas import RunRecord
from synapse_sdk.errors import ActionStopped, ExecutionError, UsageError
from synapse_sdk.execution import lifecycle
from synapse_sdk.execution.base import BaseHandle, Lost, silence
from synapse_sdk.execution.ray.cluster import RayExecutor, ray_reason, ray_runtime_env, resources

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import RunsResource
    from synapse_sdk.execution.runner import Prepared
    from synapse_sdk.plugins.run.sinks import RunSink

#: In a Ray worker: (plugin folder, action) -> (config, action class), loaded once. Tasks run in
#: Ray's copy of the plugin folder, named for its content, so a changed plugin is a new folder.
_loaded: dict[tuple[str, str], tuple[Any, Any]] = {}
#: In the caller: the remote function and its options per plugin folder, action, envs, resource
#: flags and settings (config.yaml's resources are the folder's).
_remotes: dict[tuple[Any, ...], Any] = {}
_remote_lock = threading.Lock()


def execute(invocation: bytes, secrets: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one invocation inside a Ray worker; returns ``{"ok", "result" | "error", "end"}``.

    The invocation (run id, action, params, envs, the caller's folder) travels as ``marshal``
    bytes: Ray ships bytes as they are and ``marshal`` reads them back in C, at a fraction of
    JSON's cost on this path (a Ray cluster runs one Python version, and that fixes marshal's
    format). ``secrets`` (the backend's token) is an argument, not in the runtime env that Ray
    shows. The plugin is Ray's copy of its folder, the task's working directory; the action
    runs in the caller's folder when this machine has it (relative paths in params).

    The task's owner keeps the run's books: it created the run, only it can stop the task (it
    cancels it), and it stores the run's end (``end``: ``[status, fields]``) when the outcome
    arrives. So the worker checks nothing before the action starts and stores only its start
    and events. Errors come back as data, not exceptions, so the caller never depends on
    unpickling our exception classes.
    """
    from synapse_sdk.execution.action_run import run_attached

    if secrets:
        os.environ.update(secrets)  # a Ray worker serves one driver: its tasks share them
    run_id, name, params, envs, cwd = marshal.loads(invocation)
    folder = os.getcwd()
    try:
        config, cls = _load(folder, name)
        action = cls(params=params, plugin_config=config, envs=envs, plugin_path=folder)
        action.run = _run(run_id, params, envs, cls.progress_categories)
    except Exception as exc:
        message = _masked(exc, params, envs)
        end = ["FAILED", {"error": f"could not start: {message}"}]
        return {**_failure(exc, message), "end": end}
    ends: list[list[Any]] = []
    moved = cwd != folder and os.path.isdir(cwd)
    if moved:
        os.chdir(cwd)
    try:
        result = run_attached(
            action, _worker_runs(), end_recorder=lambda st, fields: ends.append([str(st), fields])
        )
        outcome = {"ok": True, "result": result}
    except ActionStopped:
        outcome = {"ok": False, "error": "stopped on request", "exit_code": 1}
    except Exception as exc:
        outcome = _failure(exc, _masked(exc, params, envs))
    finally:
        if moved:
            os.chdir(folder)
    outcome["end"] = ends[0] if ends else None
    return outcome


def _run(run_id: str, params: dict[str, Any], envs: dict[str, str], categories: Any) -> Any:
    """The task's run, reporting to this worker's backend, its secrets masked."""
    from synapse_sdk._redact import secret_values
    from synapse_sdk.plugins.run.run import Run
    from synapse_sdk.plugins.run.sinks import BackendSink

    return Run(
        run_id, [BackendSink(_worker_runs())], secrets=lambda: secret_values(params, envs),
        progress_categories=categories,
    )  # fmt: skip


def _masked(exc: Exception, params: dict[str, Any], envs: dict[str, str]) -> str:
    """``Type: message`` of ``exc`` with the run's secrets (its params' and envs') masked."""
    from synapse_sdk._redact import mask_text, secret_values

    return mask_text(f"{type(exc).__name__}: {exc}", secret_values(params, envs))


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
def _worker_runs() -> RunsResource:
    """The runs this Ray worker reports to: its runtime env names the backend, once for the worker's life."""
    from synapse_sdk.backend import get_backend

    return get_backend().runs


class RayTaskExecutor(RayExecutor):
    """Runs ``task`` actions as Ray remote tasks on the cluster at ``address``."""

    @staticmethod
    def check(address: str) -> None:
        from synapse_sdk.execution.ray.cluster import connect

        connect(address)

    def run(self, prepared: Prepared, observers: list[RunSink]) -> Any:
        """Run the action as a Ray task, show its events to ``observers``, return its result."""
        inv = prepared.invocation
        ref = self._start(prepared)
        follower = None
        if observers:
            from synapse_sdk.execution.follow import follow_run

            handle = RayTaskHandle(self.runs, self.runs.get_run(inv.run_id))
            follower = threading.Thread(target=follow_run, args=(handle, observers), daemon=True)
            follower.start()
        try:
            outcome = self._outcome(ref, inv.run_id)
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

    def submit(self, prepared: Prepared) -> RayTaskHandle:
        """Start the task and return its handle; a thread of this process, its owner, stores its end.

        The task dies with this process: for a run that must outlive it, submit a Ray job.
        """
        ref = self._start(prepared)
        run_id = prepared.invocation.run_id

        def own() -> None:
            with contextlib.suppress(Exception):  # the run's end is stored either way
                self._outcome(ref, run_id)

        threading.Thread(target=own, name=f"ray-task-owner-{run_id}", daemon=True).start()
        return RayTaskHandle(self.runs, self.runs.get_run(run_id))

    @cached_property
    def runs(self) -> RunsResource:
        """The runs of this executor's backend."""
        from synapse_sdk.backend import get_backend

        return get_backend(self.settings).runs

    @cached_property
    def secrets(self) -> dict[str, str] | None:
        """What a worker needs to reach the backend and must not show in its runtime env."""
        from synapse_sdk.runtime_env.ray import backend_secrets

        return backend_secrets(self.settings) or None

    def _start(self, prepared: Prepared) -> Any:
        """Submit the task, then record it PENDING, owned by this process.

        This process connected to the cluster when the executor was made (``check()``).
        """
        fn = self._remote(prepared)
        # Submitted first, so that recording overlaps Ray's dispatch.
        inv = prepared.invocation
        ref = fn.remote(marshal.dumps((inv.run_id, inv.action, inv.params, inv.envs, inv.cwd)), self.secrets)
        record = prepared.new_run(extra={"ray": {"address": self.address, "kind": "task", "owner": owner()}})
        try:
            lifecycle.create(self.runs, record)
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

    def _outcome(self, ref: Any, run_id: str) -> dict[str, Any]:
        """Wait for the task and store the run's end: the one the worker handed back, or Ray's failure."""
        outcome = self._wait(ref, run_id)
        if outcome["end"]:
            status, fields = outcome["end"]
            lifecycle.end(self.runs, run_id, status, **fields)
        return outcome

    def _wait(self, ref: Any, run_id: str) -> dict[str, Any]:
        """The task's outcome; Ray's own failures end the run FAILED with Ray's reason."""
        import ray

        runs = self.runs
        try:
            return ray.get(ref)
        except KeyboardInterrupt:
            ray.cancel(ref, force=True)  # the task would die with this process anyway
            lifecycle.stop(runs, run_id, "stopped: interrupted, the Ray task was cancelled")
            raise
        except Exception as exc:  # Ray's exception classes are looked up on failure only
            from ray.exceptions import RayError, RuntimeEnvSetupError, TaskCancelledError, WorkerCrashedError

            if isinstance(exc, TaskCancelledError):
                lifecycle.stop(runs, run_id, "stopped: the Ray task was cancelled")
                raise ExecutionError(f"run {run_id}: the Ray task was cancelled", run_id=run_id) from exc
            if not isinstance(exc, RayError):
                raise
            if isinstance(exc, RuntimeEnvSetupError):
                reason = f"Ray could not set up the runtime env: {ray_reason(exc)}"
            elif isinstance(exc, WorkerCrashedError):
                reason = f"Ray worker died: {ray_reason(exc)}"
            else:
                reason = f"Ray task failed: {type(exc).__name__}: {ray_reason(exc)}"
            lifecycle.fail(runs, run_id, reason)
            raise ExecutionError(f"run {run_id}: {reason}", run_id=run_id) from exc


@cache
def owner() -> dict[str, Any]:
    """This process as the owner of the tasks it submits: a Ray task dies with its owner."""
    from synapse_sdk.execution.local.process import start_fingerprint

    return {"host": socket.gethostname(), "pid": os.getpid(), "started": start_fingerprint(os.getpid())}


def owner_gone(record: RunRecord) -> str | None:
    """Why a Ray task's run can never end (its owner on this host has died), or None.

    The owner records the task's end; a task whose owner dies is killed by Ray.
    """
    from synapse_sdk.execution.local.process import is_alive

    found = (record.extra.get("ray") or {}).get("owner") or {}
    if found.get("host") != socket.gethostname() or is_alive(found.get("pid"), found.get("started")):
        return None
    return f"the process that ran the Ray task (pid {found.get('pid')}) is gone, and the task with it"


class RayTaskHandle(BaseHandle):
    """A Ray task's run: it lives as long as its owner (the process that submitted it)."""

    kind = "task"

    def lost(self, record: RunRecord) -> Lost | None:
        """The owner died (and took its task along), or the run has been silent too long."""
        gone = owner_gone(record)
        return Lost(gone) if gone is not None else silence(record)

    def stop(self, grace: float = 10.0) -> RunRecord:
        """Stop a Ray task: only its owner can cancel it, so interrupt the owner (like Ctrl-C there).

        The owner cancels the task and records the run STOPPED. An owner that is gone already has
        taken its task with it; one that ignores the interrupt leaves the run STOPPED after ``grace``.
        """
        import signal

        record = self.record
        found = record.extra["ray"].get("owner") or {}
        if found.get("host") != socket.gethostname():
            raise UsageError(
                f"Ray task {record.id} is owned by a process on host {found.get('host')!r}, and only its "
                f"owner can cancel it; run 'synapse job stop {record.id}' on {found.get('host')!r}"
            )
        lifecycle.request_stop(self.runs, record.id)
        if owner_gone(record) is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(found["pid"], signal.SIGINT)
        ended = self.wait_for_end(grace)
        if ended is not None:
            return ended
        error = f"stopped: the owner (pid {found['pid']}) did not cancel the task within {grace:g}s"
        lifecycle.stop(self.runs, record.id, error)
        return self.refresh()
