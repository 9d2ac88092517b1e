"""REST serving on this machine: a FastAPI app for a plugin's ``restapi`` actions, run by uvicorn.

Each ``restapi`` action is served at ``POST /{action}``: the JSON body is validated by the
action's ``params_model`` (422 with field errors; the OpenAPI docs at ``/docs`` come from the
same models) and the JSON result is returned. ``setup()`` runs once per action before the
server listens; each request runs ``start()`` on a shallow copy of that set-up instance, so
models loaded in ``setup()`` are shared and params are not. The whole server is one serving
run: every request is recorded (method, route, status, latency) with throughput and latency
percentiles as metrics (see :mod:`synapse_sdk.execution.serve_stats`).
"""

from __future__ import annotations

import copy
import inspect
import os
import signal
import socket
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ExecutionError, SynapseError, UsageError
from synapse_sdk.execution.serve_stats import RequestStats

if TYPE_CHECKING:
    from fastapi import FastAPI

    from synapse_sdk.plugins.categories.base import Action
    from synapse_sdk.plugins.config import PluginConfig
    from synapse_sdk.plugins.run.run import Run
    from synapse_sdk.settings import Settings

#: Routes that are not actions: never recorded as requests.
HEALTH_ROUTE = "/health"


@dataclass(frozen=True)
class RestAction:
    """One served action: its route and the instance ``setup()`` prepared."""

    name: str
    route: str
    description: str
    action_class: type[Action]
    instance: Action


def rest_action_classes(plugin_path: Path, config: PluginConfig) -> dict[str, type[Action]]:
    """Import every ``restapi`` action's class; ``UsageError`` if there are none, ``ConfigError`` if bad."""
    from synapse_sdk.plugins.loader import load_action_class

    names = [name for name, action in config.actions.items() if action.method == "restapi"]
    if not names:
        raise UsageError(
            f"plugin {config.code!r} has no restapi actions to serve; set 'method: restapi' on an "
            f"action in {plugin_path / 'config.yaml'} (its actions: {', '.join(config.actions)})"
        )
    return {name: load_action_class(plugin_path, config, name) for name in names}


def load_rest_actions(
    plugin_path: Path, config: PluginConfig, run: Run, envs: dict[str, str], *, debug: bool = False,
    classes: dict[str, type[Action]] | None = None,
) -> list[RestAction]:  # fmt: skip
    """Import every ``restapi`` action (unless ``classes`` are given) and call its ``setup()`` once."""
    served = []
    for name, cls in (classes or rest_action_classes(plugin_path, config)).items():
        instance = _serving_instance(cls, config, plugin_path, envs, run, debug)
        try:
            instance.setup()
        except Exception as exc:
            raise ExecutionError(f"action {name!r}: setup() failed: {type(exc).__name__}: {exc}") from exc
        served.append(RestAction(name, f"/{name}", config.actions[name].description, cls, instance))
    return served


def _serving_instance(
    cls: type[Action], config: PluginConfig, path: Path, envs: dict[str, str], run: Run, debug: bool
) -> Action:
    """An instance of ``cls`` built without request params (each request brings its own)."""
    # A throw-away subclass skips params validation in __init__; the instance is then given back
    # its real class, so setup() and start() see exactly the author's class.
    unvalidated = type(cls.__name__, (cls,), {"params_model": None, "__module__": cls.__module__})
    instance = unvalidated(params={}, plugin_config=config, envs=envs, plugin_path=path, run=run, debug=debug)
    instance.__class__ = cls
    return instance


def create_serve_app(
    actions: list[RestAction], stats: RequestStats, *, title: str, version: str, run_id: str,
    debug: bool = False,
) -> FastAPI:  # fmt: skip
    """The FastAPI app: ``POST /{action}`` per action, ``GET /health``, docs, request recording."""
    from fastapi import FastAPI

    app = FastAPI(
        title=title,
        version=version,
        description=f"REST actions of {title}. Every request is recorded on run {run_id}.",
    )

    @app.get(HEALTH_ROUTE, tags=["health"])
    def health() -> dict[str, Any]:
        """Liveness: the serving run and the routes it serves."""
        return {"status": "ok", "run_id": run_id, "actions": {a.name: a.route for a in actions}}

    for action in actions:
        app.add_api_route(
            action.route,
            _endpoint(action, run_id, debug),
            methods=["POST"],
            name=action.name,
            summary=action.description or f"Run the {action.name!r} action",
            tags=["actions"],
        )
    app.add_middleware(RecordRequests, stats=stats, routes={a.route for a in actions})
    run = actions[0].instance.run if actions else None

    async def unexpected(request: Any, exc: Exception) -> Any:
        """Anything that escaped an endpoint (e.g. a result JSON cannot encode): a clear 500, logged."""
        from fastapi.responses import JSONResponse

        detail = f"{request.method} {request.url.path} failed: {type(exc).__name__}: {exc}"
        if run is not None:
            run.log_message(detail, "ERROR")
        return JSONResponse(status_code=500, content={"detail": detail, "run_id": run_id})

    app.add_exception_handler(Exception, unexpected)
    return app


def _endpoint(action: RestAction, run_id: str, debug: bool) -> Any:
    """An endpoint whose body is the params model.

    A sync ``start()`` runs in the thread pool (it may block); an ``async def start()`` is
    awaited on the event loop, with no thread hop.
    """
    from fastapi import Body, HTTPException
    from fastapi.responses import JSONResponse

    model = action.action_class.params_model
    base = action.instance

    def for_request(params: Any) -> Action:
        request_action = copy.copy(base)
        values = params.model_dump() if model is not None else dict(params)
        request_action.raw_params = values
        request_action.validated_params = params if model is not None else None
        request_action.params = values
        return request_action

    def failed(error: Exception) -> Any:
        if isinstance(error, SynapseError) and error.exit_code == 2:
            raise HTTPException(422, f"action {action.name!r}: {error}") from None
        detail = f"action {action.name!r} failed: {type(error).__name__}: {error}"
        message = detail + ("\n" + traceback.format_exc() if debug else "")
        base.run.log_message(message, "ERROR")
        return JSONResponse(status_code=500, content={"detail": detail, "run_id": run_id})

    if inspect.iscoroutinefunction(action.action_class.start):

        async def endpoint(params: Any) -> Any:
            try:
                return await for_request(params).start()
            except Exception as exc:
                return failed(exc)

    else:

        def endpoint(params: Any) -> Any:
            try:
                return for_request(params).start()
            except Exception as exc:
                return failed(exc)

    annotation = model if model is not None else dict[str, Any]
    default = inspect.Parameter.empty if model is not None else Body(default={})
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("params", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=annotation,
                           default=default)]
    )  # fmt: skip
    endpoint.__name__ = f"run_{action.name}"
    endpoint.__doc__ = action.description or action.action_class.__doc__
    return endpoint


class RecordRequests:
    """Pure ASGI middleware: times each request to an action route and notes its status."""

    def __init__(self, app: Any, stats: RequestStats, routes: set[str]) -> None:
        self.app = app
        self.stats = stats
        self.routes = routes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] not in self.routes:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.stats.record(scope["method"], scope["path"], status, time.perf_counter() - started)


class _Terminated(Exception):
    """SIGTERM, re-raised by uvicorn after its graceful shutdown."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated()


def check_port_free(host: str, port: int) -> None:
    """``UsageError`` naming ``--port`` when something already listens there."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise UsageError(
                f"--port {port}: cannot listen on {host}:{port} ({exc.strerror}); "
                "choose another port, like --port 8001"
            ) from None


def serve(
    plugin_path: Path, config: PluginConfig, settings: Settings, *, host: str = "127.0.0.1",
    port: int = 8000, envs: dict[str, str] | None = None, debug: bool = False,
    log_every_request_up_to: int | None = 1000,
) -> str:  # fmt: skip
    """Serve the plugin's restapi actions until SIGINT/SIGTERM; return the serving run's id.

    The serving run goes RUNNING when ``setup()`` is done, STOPPED when the server is stopped,
    FAILED if ``setup()`` or the server fails.
    """
    import uvicorn

    from synapse_sdk._redact import secret_values
    from synapse_sdk.backend import get_backend
    from synapse_sdk.backend.schemas import ACTIVE, RunStatus
    from synapse_sdk.plugins.categories.base import run_record
    from synapse_sdk.plugins.run.run import Run
    from synapse_sdk.plugins.run.sinks import BackendSink

    envs = dict(envs or {})
    check_port_free(host, port)
    classes = rest_action_classes(plugin_path, config)  # bad config fails here, before any run exists
    backend = get_backend(settings)
    run_id = f"serve-{uuid.uuid4().hex[:12]}"
    record = run_record(run_id, "serve", config, {}, envs)
    extra = {**record.extra, "url": f"http://{host}:{port}"}
    backend.create_run(record.model_copy(update={"method": "restapi", "extra": extra}))
    run = Run(run_id, [BackendSink(backend)], secrets=secret_values(envs))
    stats = RequestStats(run, max_logs_per_interval=log_every_request_up_to)
    status, error = RunStatus.STOPPED, "server stopped"
    try:
        actions = load_rest_actions(plugin_path, config, run, envs, debug=debug, classes=classes)
        backend.transition(
            run_id, [RunStatus.PENDING], RunStatus.RUNNING, started_at=time.time(),
            heartbeat_at=time.time(), host=socket.gethostname(), pid=os.getpid(),
            extra={**extra, "routes": {a.name: a.route for a in actions}},
        )  # fmt: skip
        run.start_heartbeat()
        app = create_serve_app(
            actions, stats, title=config.name, version=config.version, run_id=run_id, debug=debug
        )
        run.log_message(f"serving {', '.join(a.route for a in actions)} at http://{host}:{port}")
        stats.start()
        print(
            f"serving {config.uri}: {', '.join('POST ' + a.route for a in actions)} at http://{host}:{port} "
            f"(docs: http://{host}:{port}/docs; run {run_id}; Ctrl-C stops)",
            flush=True,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                app, host=host, port=port, log_level="info" if debug else "warning", access_log=debug
            )  # fmt: skip
        )
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
        try:
            server.run()
        finally:
            signal.signal(signal.SIGTERM, previous)
        if not server.started:
            status, error = RunStatus.FAILED, f"the server could not start on {host}:{port}"
    except (KeyboardInterrupt, _Terminated):
        pass
    except SystemExit as exc:  # uvicorn exits when it cannot bind
        status, error = RunStatus.FAILED, f"the server could not start on {host}:{port} (exit {exc.code})"
    except BaseException as exc:
        status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        run.log_message(f"serving failed: {error}", "ERROR")
        raise
    finally:
        stats.close()
        run.log_message(f"{error}: {stats.total} request(s), {stats.errors} error(s)",
                        "INFO" if status is RunStatus.STOPPED else "ERROR")  # fmt: skip
        run.close()
        backend.transition(run_id, ACTIVE, status, finished_at=time.time(), error=error, lost_events=run.lost)
    if status is RunStatus.FAILED:
        raise ExecutionError(f"{error} (run {run_id}; see 'synapse job logs {run_id}')", run_id=run_id)
    return run_id
