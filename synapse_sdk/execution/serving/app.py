"""The FastAPI app that serves a plugin's ``restapi`` actions, locally (uvicorn) or on Ray Serve.

Each ``restapi`` action is served at ``POST /{action}``: the JSON body is validated by the
action's ``params_model`` (422 with field errors; the OpenAPI docs at ``/docs`` come from the
same models) and the JSON result is returned. ``setup()`` runs once per action before the
server listens; each request runs ``start()`` on ``with_params()`` of that set-up instance, so
models loaded in ``setup()`` are shared and params are not. The whole server is one serving
run: every request is recorded (method, route, status, latency) with throughput and latency
percentiles as metrics (see :mod:`synapse_sdk.execution.serving.stats`).
"""

from __future__ import annotations

import inspect
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ExecutionError, SynapseError, UsageError
from synapse_sdk.execution.serving.stats import RequestStats

if TYPE_CHECKING:
    from fastapi import FastAPI

    from synapse_sdk.plugins.categories.base import Action
    from synapse_sdk.plugins.config import PluginConfig
    from synapse_sdk.plugins.run.run import Run

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
        instance = serving_instance(cls, config, plugin_path, envs, run, debug)
        try:
            instance.setup()
        except Exception as exc:
            raise ExecutionError(f"action {name!r}: setup() failed: {type(exc).__name__}: {exc}") from exc
        served.append(RestAction(name, f"/{name}", config.actions[name].description, cls, instance))
    return served


def serving_instance(
    cls: type[Action], config: PluginConfig, path: Path, envs: dict[str, str], run: Run, debug: bool = False
) -> Action:
    """An instance of ``cls`` without request params (each request brings its own), reporting to ``run``."""
    instance = cls.bare(config, envs, plugin_path=path)
    instance.run = run
    instance.debug = debug
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
        return base.with_params(params)

    def failed(error: Exception) -> Any:
        if isinstance(error, SynapseError) and error.exit_code == 2:
            raise HTTPException(422, f"action {action.name!r}: {error}") from None
        detail = f"action {action.name!r} failed: {type(error).__name__}: {error}"
        message = detail + ("\n" + traceback.format_exc() if debug else "")
        base.run.log_message(message, "ERROR")
        return JSONResponse(status_code=500, content={"detail": detail, "run_id": run_id})

    async def run_async(params: Any) -> Any:
        try:
            return await for_request(params).start()
        except Exception as exc:
            return failed(exc)

    def run_sync(params: Any) -> Any:
        try:
            return for_request(params).start()
        except Exception as exc:
            return failed(exc)

    endpoint: Any = run_async if inspect.iscoroutinefunction(action.action_class.start) else run_sync

    annotation = model if model is not None else dict[str, Any]
    default = inspect.Parameter.empty if model is not None else Body(default={})
    endpoint.__signature__ = inspect.Signature(
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
