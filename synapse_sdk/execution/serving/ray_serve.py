"""``restapi`` actions on a Ray cluster: the development server's FastAPI app as a Ray Serve app.

``synapse plugin run serve --ray-address ADDR`` deploys one Serve application per plugin,
named ``code-version`` at route prefix ``/code/version``: each restapi action answers
``POST /code/version/{action}``. Every replica builds the very app of
:mod:`synapse_sdk.execution.serve` (params validated by ``params_model``, 422 on bad input,
``setup()`` once per replica, every request recorded with latency and throughput metrics)
from the uploaded plugin folder. The deployment is one serving run: RUNNING once a replica
is up, each replica start logged as a ``replica_started`` event (so a replica Serve restarted
after a crash shows up), STOPPED by ``synapse job stop RUN_ID`` (which deletes the app).

The plugin's restapi actions share the deployment, so its replicas get the largest
``num_replicas`` / ``num_cpus`` / ``num_gpus`` and the first ``autoscaling`` any of them sets.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ExecutionError, UsageError
from synapse_sdk.execution.ray_cluster import end_run

if TYPE_CHECKING:
    from synapse_sdk.plugins.config import PluginConfig
    from synapse_sdk.settings import Settings

#: Seconds ``serve.run`` may take to bring the app up (first deploys build the runtime env).
DEPLOY_TIMEOUT = 300.0


def app_name(config: PluginConfig) -> str:
    """The Serve application name of a plugin: ``code-version``."""
    return f"{config.code}-{config.version}"


def route_prefix(config: PluginConfig) -> str:
    """The route prefix of a plugin's Serve application: ``/code/version``."""
    return f"/{config.code}/{config.version}"


def deployment_options(config: PluginConfig, num_cpus: float | None = None,
                       num_gpus: float | None = None) -> dict[str, Any]:  # fmt: skip
    """Serve deployment options from the restapi actions' config.yaml entries (flags win)."""
    actions = [a for a in config.actions.values() if a.method == "restapi"]
    options: dict[str, Any] = {}
    replicas = [a.num_replicas for a in actions if a.num_replicas]
    autoscaling = next((a.autoscaling for a in actions if a.autoscaling), None)
    if autoscaling is not None and not replicas:
        options["autoscaling_config"] = autoscaling.model_dump()
    else:
        options["num_replicas"] = max(replicas, default=1)
    cpus = [a.num_cpus for a in actions if a.num_cpus is not None]
    gpus = [a.num_gpus for a in actions if a.num_gpus is not None]
    chosen = {
        "num_cpus": num_cpus if num_cpus is not None else max(cpus, default=None),
        "num_gpus": num_gpus if num_gpus is not None else max(gpus, default=None),
    }
    options["ray_actor_options"] = {k: v for k, v in chosen.items() if v is not None}
    return options


def deploy(
    plugin_path: Path, config: PluginConfig, settings: Settings, address: str, *,
    host: str = "127.0.0.1", port: int = 8000, envs: dict[str, str] | None = None,
    num_cpus: float | None = None, num_gpus: float | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Deploy the plugin's restapi actions as a Serve app; return the serving run id and its URLs.

    The serving run is created PENDING; the first replica moves it to RUNNING. A deploy that
    fails (a replica's ``setup()`` raises, the runtime env cannot be built) ends it FAILED with
    Serve's reason and raises ``ExecutionError``.
    """
    from synapse_sdk.backend import get_backend
    from synapse_sdk.execution.ray_cluster import connect, ray_reason
    from synapse_sdk.plugins.categories.base import run_record
    from synapse_sdk.runtime_env.ray import backend_secrets

    envs = dict(envs or {})
    names = [n for n, a in config.actions.items() if a.method == "restapi"]
    if not names:
        raise UsageError(
            f"plugin {config.code!r} has no restapi actions to serve; set 'method: restapi' on an "
            f"action in {plugin_path / 'config.yaml'} (its actions: {', '.join(config.actions)})"
        )
    dashboard = connect(address)
    from ray import serve

    run_id = f"serve-{uuid.uuid4().hex[:12]}"
    name, prefix = app_name(config), route_prefix(config)
    url = f"http://{host}:{port}{prefix}"
    env = _runtime_env(plugin_path, config, settings, envs, names[0], run_id)
    record = run_record(run_id, "serve", config, {}, envs)
    ray_info = {
        "address": address,
        "dashboard": dashboard,
        "kind": "serve",
        "app": name,
        "route_prefix": prefix,
    }
    extra = {**record.extra, "ray": ray_info, "url": url, "routes": {n: f"{prefix}/{n}" for n in names}}
    store = get_backend(settings)
    store.create_run(record.model_copy(update={"method": "restapi", "is_job": True, "extra": extra}))
    try:
        serve.start(http_options={"host": host, "port": port})
        host, port = _proxy_address(host, port)
        url = f"http://{host}:{port}{prefix}"
        store.update(run_id, extra={**extra, "url": url})
        deployment = replica_class().options(
            name=config.code, **deployment_options(config, num_cpus, num_gpus)
        )
        deployment = deployment.options(
            ray_actor_options={**deployment.ray_actor_options, "runtime_env": env}
        )
        serve.run(deployment.bind(run_id, envs, backend_secrets(settings)), name=name, route_prefix=prefix)
    except Exception as exc:
        reason = f"Ray Serve could not deploy {name!r}: {ray_reason(exc)}"
        replica_errors = [e.message for e in store.get_logs(run_id) if e.level == "ERROR" and e.message]
        if replica_errors:
            reason += f"; last replica error: {replica_errors[-1]}"
        with contextlib.suppress(Exception):
            serve.delete(name)  # a failed app would keep restarting replicas
        end_run(store, run_id, reason)
        raise ExecutionError(
            f"{reason} (run {run_id}; see 'synapse job logs {run_id}')", run_id=run_id
        ) from exc
    end_replaced(store, name, run_id)
    return {"run_id": run_id, "app": name, "url": url, "routes": extra["routes"], "docs": f"{url}/docs"}


def end_replaced(store: Any, app: str, run_id: str) -> None:
    """A redeploy replaces the app in place: the serving runs it replaced end STOPPED."""
    from synapse_sdk.backend.schemas import ACTIVE

    for old in store.list_runs(limit=500):
        ray_info = old.extra.get("ray") or {}
        if (
            old.id != run_id
            and old.status in ACTIVE
            and ray_info.get("kind") == "serve"
            and ray_info.get("app") == app
        ):
            end_run(store, old.id, f"stopped: replaced by serving run {run_id}", status="STOPPED")


def _runtime_env(plugin_path: Path, config: PluginConfig, settings: Settings, envs: dict[str, str],
                 action: str, run_id: str) -> dict[str, Any]:  # fmt: skip
    """The replicas' Ray runtime env: the action's ``get_runtime_env()``, uploaded, plus the backend."""
    from synapse_sdk.execution.serve import _serving_instance
    from synapse_sdk.plugins.loader import load_action_class
    from synapse_sdk.plugins.run.run import Run
    from synapse_sdk.runtime_env.ray import backend_env_vars, to_ray_runtime_env, upload_working_dir

    cls = load_action_class(plugin_path, config, action)
    instance = _serving_instance(cls, config, plugin_path, envs, Run(run_id), False)
    env = to_ray_runtime_env(
        instance.get_runtime_env(), config.package_manager, extra_env_vars=backend_env_vars(settings)
    )
    return upload_working_dir(env)


def replica_class() -> Any:
    """The Serve deployment of a plugin (built here so ``ray`` is imported only when needed)."""
    from ray import serve

    @serve.deployment
    @serve.ingress()
    class PluginReplica:
        """One replica: loads the plugin from its working dir, runs ``setup()``, serves the app."""

        def __init__(self, run_id: str, envs: dict[str, str], secrets: dict[str, str]) -> None:
            os.environ.update(secrets)  # the backend's token: an init arg, not a runtime-env variable
            self.state = ReplicaState(run_id, envs)

        def __serve_build_asgi_app__(self) -> Any:
            return self.state.app

        def __del__(self) -> None:
            self.state.close()

    return PluginReplica


class ReplicaState:
    """What one replica holds: the serving run's ``Run``, request stats and the FastAPI app."""

    def __init__(self, run_id: str, envs: dict[str, str]) -> None:
        from synapse_sdk._redact import secret_values
        from synapse_sdk.backend import get_backend
        from synapse_sdk.backend.schemas import RunStatus
        from synapse_sdk.execution.serve import create_serve_app, load_rest_actions
        from synapse_sdk.execution.serve_stats import RequestStats
        from synapse_sdk.plugins.config import PluginConfig
        from synapse_sdk.plugins.run.run import Run
        from synapse_sdk.plugins.run.sinks import BackendSink

        folder = Path.cwd()
        config = PluginConfig.load(folder)
        backend = get_backend()
        self.run = Run(run_id, [BackendSink(backend)], secrets=secret_values(envs))
        self.stats = RequestStats(self.run)
        self.replica = _replica_id()
        try:
            actions = load_rest_actions(folder, config, self.run, envs)
        except Exception as exc:
            self.run.log_message(f"replica {self.replica}: {type(exc).__name__}: {exc}", "ERROR")
            self.run.close()
            raise
        inner = create_serve_app(
            actions, self.stats, title=config.name, version=config.version, run_id=run_id
        )
        self.app = strip_root_path(inner)
        backend.transition(
            run_id, [RunStatus.PENDING], RunStatus.RUNNING, started_at=time.time(),
            heartbeat_at=time.time(), host=socket.gethostname(), pid=os.getpid(),
        )  # fmt: skip
        starts = 1 + sum(e.event == "replica_started" for e in backend.get_logs(run_id))
        self.run.log(
            "replica_started",
            {"replica": self.replica, "pid": os.getpid(), "host": socket.gethostname(), "start": starts},
        )
        self.run.log_message(f"replica {self.replica} started (pid {os.getpid()}; replica start #{starts})")
        self.run.start_heartbeat()
        self.stats.start()

    def close(self) -> None:
        """Flush what the replica recorded (Serve calls this when it removes the replica)."""
        self.stats.close()
        self.run.log("replica_stopped", {"replica": self.replica, "pid": os.getpid()})
        self.run.close()


def strip_root_path(app: Any) -> Any:
    """Serve passes ``/prefix/route`` with ``root_path=/prefix``; the app records bare routes."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        root = scope.get("root_path") or ""
        path = scope.get("path", "")
        if root and scope["type"] in ("http", "websocket") and path.startswith(root):
            scope = {k: v for k, v in scope.items() if k != "raw_path"}
            scope["path"] = path[len(root) :] or "/"
        await app(scope, receive, send)

    return asgi


def _proxy_address(host: str, port: int) -> tuple[str, int]:
    """Where Serve's HTTP proxy really listens (a running Serve keeps its first host and port)."""
    try:
        from ray.serve.context import _get_global_client

        config = _get_global_client().http_config
        return str(config.host), int(config.port)
    except Exception:  # noqa: BLE001 - a private API; fall back to what was asked for
        return host, port


def _replica_id() -> str:
    try:
        from ray import serve

        return str(serve.get_replica_context().replica_id.unique_id)
    except Exception:  # noqa: BLE001 - outside a replica (tests) there is no context
        return f"pid-{os.getpid()}"


# -- what `synapse job get/stop` do for a serving run --------------------------------------------------


def refresh(store: Any, record: Any) -> Any:
    """Reconcile a serving run with Serve's view of its app (via the dashboard's REST API)."""
    import httpx

    from synapse_sdk.backend.schemas import ACTIVE, RunStatus

    ray_info = record.extra["ray"]
    dashboard = ray_info.get("dashboard")
    if not dashboard:
        return record
    base = dashboard if "://" in dashboard else f"http://{dashboard}"
    try:
        reply = httpx.get(f"{base}/api/serve/applications/", timeout=5)
        reply.raise_for_status()
        apps = reply.json().get("applications") or {}
    except (httpx.HTTPError, ValueError):
        return record
    app = apps.get(ray_info["app"])
    if app is None or app.get("status") == "NOT_STARTED":
        new, error = RunStatus.STOPPED, f"Serve application {ray_info['app']!r} is no longer deployed"
    elif app.get("status") == "DEPLOY_FAILED":
        new, error = RunStatus.FAILED, f"Serve could not deploy: {app.get('message') or 'no reason given'}"
    else:
        return record
    store.transition(record.id, ACTIVE, new, finished_at=time.time(), error=error)
    return store.get_run(record.id)


def stop(store: Any, record: Any) -> Any:
    """Delete the Serve application and end the serving run STOPPED."""
    from synapse_sdk.execution.ray_cluster import connect

    ray_info = record.extra["ray"]
    store.update(record.id, stop_requested=1)
    connect(ray_info["address"])
    from ray import serve

    try:
        serve.delete(ray_info["app"])
    except Exception as exc:
        raise ExecutionError(
            f"Ray Serve could not delete {ray_info['app']!r}: {exc}", run_id=record.id
        ) from exc
    end_run(store, record.id, f"stopped: Serve application {ray_info['app']!r} deleted", status="STOPPED")
    return store.get_run(record.id)
