"""``restapi`` actions on a Ray cluster: the development server's FastAPI app as a Ray Serve app.

``synapse plugin run serve --ray-address ADDR`` deploys one Serve application per plugin,
named ``code-version`` at route prefix ``/code/version``: each restapi action answers
``POST /code/version/{action}``. Every replica builds the very app of
:mod:`synapse_sdk.execution.serving.app` (params validated by ``params_model``, 422 on bad input,
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
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.backend.schemas import RunRecord, RunStatus
from synapse_sdk.errors import ExecutionError, UsageError
from synapse_sdk.execution import lifecycle
from synapse_sdk.execution.base import BaseHandle, Lost, silence

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import RunsResource
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
    from synapse_sdk.execution.ray.cluster import connect, ray_reason
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
    ray_info = {
        "address": address,
        "dashboard": dashboard,
        "kind": "serve",
        "app": name,
        "route_prefix": prefix,
    }
    routes = {n: f"{prefix}/{n}" for n in names}
    record = lifecycle.new_run(
        run_id, "serve", config, {}, envs, method="restapi", is_job=True,
        extra={"ray": ray_info, "url": url, "routes": routes},
    )  # fmt: skip
    extra = record.extra
    store = get_backend(settings).runs
    lifecycle.create(store, record)
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
        lifecycle.fail(store, run_id, reason)
        raise ExecutionError(
            f"{reason} (run {run_id}; see 'synapse job logs {run_id}')", run_id=run_id
        ) from exc
    end_replaced(store, name, run_id)
    return {"run_id": run_id, "app": name, "url": url, "routes": extra["routes"], "docs": f"{url}/docs"}


def end_replaced(store: RunsResource, app: str, run_id: str) -> None:
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
            lifecycle.stop(store, old.id, f"stopped: replaced by serving run {run_id}")


def _runtime_env(plugin_path: Path, config: PluginConfig, settings: Settings, envs: dict[str, str],
                 action: str, run_id: str) -> dict[str, Any]:  # fmt: skip
    """The replicas' Ray runtime env: the action's ``get_runtime_env()``, uploaded, plus the backend."""
    from synapse_sdk.plugins.loader import load_action_class
    from synapse_sdk.runtime_env.ray import backend_env_vars, to_ray_runtime_env, upload_working_dir

    cls = load_action_class(plugin_path, config, action)
    instance = cls.bare(config, envs, plugin_path=plugin_path)
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
        from synapse_sdk.execution.serving.app import create_serve_app, load_rest_actions
        from synapse_sdk.execution.serving.stats import RequestStats
        from synapse_sdk.plugins.config import PluginConfig
        from synapse_sdk.plugins.run.run import Run
        from synapse_sdk.plugins.run.sinks import BackendSink

        folder = Path.cwd()
        config = PluginConfig.load(folder)
        backend = get_backend().runs
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
        lifecycle.mark_started(backend, run_id)
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

        client = _get_global_client()
        if client is None:
            return host, port
        return str(client.http_config.host), int(client.http_config.port)
    except Exception:  # noqa: BLE001 - a private API; fall back to what was asked for
        return host, port


def _replica_id() -> str:
    try:
        from ray import serve

        return str(serve.get_replica_context().replica_id.unique_id)
    except Exception:  # noqa: BLE001 - outside a replica (tests) there is no context
        return f"pid-{os.getpid()}"


# -- what `synapse job get/stop` do for a serving run --------------------------------------------------


class RayServeHandle(BaseHandle):
    """A serving run on Ray Serve: it lives as long as its Serve application (asked of the dashboard)."""

    kind = "serve"

    def lost(self, record: RunRecord) -> Lost | None:
        """The app is gone or failed to deploy; an unreachable dashboard leaves the silence rule."""
        import httpx

        ray_info = record.extra["ray"]
        dashboard = ray_info.get("dashboard")
        if not dashboard:
            return silence(record)
        base = dashboard if "://" in dashboard else f"http://{dashboard}"
        try:
            reply = httpx.get(f"{base}/api/serve/applications/", timeout=5)
            reply.raise_for_status()
            apps = reply.json().get("applications") or {}
        except (httpx.HTTPError, ValueError):
            return silence(record, "Ray dashboard unreachable and ")
        app = apps.get(ray_info["app"])
        if app is None or app.get("status") == "NOT_STARTED":
            return Lost(f"Serve application {ray_info['app']!r} is no longer deployed", RunStatus.STOPPED)
        if app.get("status") == "DEPLOY_FAILED":
            reason = f"Serve could not deploy: {app.get('message') or 'no reason given'}"
            return Lost(reason, RunStatus.FAILED)
        return None

    def stop(self, grace: float = 10.0) -> RunRecord:
        """Delete the Serve application and end the serving run STOPPED."""
        from synapse_sdk.execution.ray.cluster import connect

        record = self.record
        ray_info = record.extra["ray"]
        lifecycle.request_stop(self.runs, record.id)
        connect(ray_info["address"])
        from ray import serve

        try:
            serve.delete(ray_info["app"])
        except Exception as exc:
            raise ExecutionError(
                f"Ray Serve could not delete {ray_info['app']!r}: {exc}", run_id=record.id
            ) from exc
        lifecycle.stop(self.runs, record.id, f"stopped: Serve application {ray_info['app']!r} deleted")
        return self.refresh()
