"""``create_app(settings)``: the HTTP backend application (FastAPI), token required on the API.

The app serves one :class:`~synapse_sdk.backend.store.EmbeddedBackend` (``app.state.backend``).
Routers live in :mod:`synapse_sdk.backend.server.routes`, one per resource; each is included
here behind :func:`~synapse_sdk.backend.server.auth.require_token`. ``GET /health`` is open so
that supervisors and tests can poll it. Our errors travel as ``{"error": <class name>,
"detail": <message>}``, which the client turns back into the same class; FastAPI's own
request validation (the runs and releases routes' bodies and query parameters) answers 422 in
the same shape, as a ``UsageError`` naming the field: ``{"detail": "body.new: ...", "error":
"UsageError", "errors": {"body.new": ["..."]}}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import (
    ActionNotFound,
    PluginNotFound,
    ResourceConflict,
    ResourceNotFound,
    RunConflict,
    RunNotFound,
    SynapseError,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from synapse_sdk.backend.store import EmbeddedBackend
    from synapse_sdk.settings import Settings


def error_status(exc: SynapseError) -> int:
    """The HTTP status for one of our errors: 404 unknown, 409 conflict, 400 bad input, else 500."""
    if isinstance(exc, RunNotFound | PluginNotFound | ActionNotFound | ResourceNotFound):
        return 404
    if isinstance(exc, RunConflict | ResourceConflict):
        return 409
    return 400 if exc.exit_code == 2 else 500


def validation_body(errors: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Our error body for FastAPI's request-validation errors: the first in ``detail``, each in ``errors``."""
    if not errors:
        return {"detail": "request: invalid", "error": "UsageError", "errors": {"request": ["invalid"]}}
    problems: dict[str, list[str]] = {}
    for error in errors:
        path, problem = _field_problem(error)
        problems.setdefault(path, []).append(problem)
    path, problem = _field_problem(errors[0])
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return {"detail": f"{path}: {problem}{more}", "error": "UsageError", "errors": problems}


def _field_problem(error: Mapping[str, Any]) -> tuple[str, str]:
    """``("body.fields.pid", "input should be a valid integer, got 'x'")`` for one FastAPI error."""
    loc = list(error.get("loc") or ()) or ["request"]
    kind, msg = error.get("type", ""), str(error.get("msg", "invalid"))
    if kind == "json_invalid":  # loc is ("body", <character position>)
        reason = (error.get("ctx") or {}).get("error", msg)
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        return str(loc[0]), f"not valid JSON ({reason}{at}); send a JSON object"
    path = str(loc[0]) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
    if kind == "missing":
        return path, "required field is missing"
    if kind == "extra_forbidden":
        return path, "unknown field"
    if msg[:2] != msg[:2].upper():  # "Input should be..." -> "input should be..."; "JSON ..." stays
        msg = msg[0].lower() + msg[1:]
    shown = repr(error.get("input"))
    return path, f"{msg}, got {shown if len(shown) <= 80 else shown[:77] + '...'}"


def create_app(
    settings: Settings, backend: EmbeddedBackend | None = None, token: str | None = None
) -> FastAPI:
    """The backend app over the embedded backend at ``settings.db_path`` (or ``backend``).

    ``token`` (default ``settings.access_token``) is required: without one the app refuses to start.
    """
    from fastapi import Depends, FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    from synapse_sdk import __version__
    from synapse_sdk.backend.server.auth import check_token, require_token
    from synapse_sdk.backend.server.routes import live, platform, releases, runs
    from synapse_sdk.backend.store import EmbeddedBackend

    app = FastAPI(
        title="Synapse backend",
        version=__version__,
        description="Runs, their logs, progress, metrics and results. Send 'Authorization: Bearer <token>'.",
    )
    app.state.settings = settings
    app.state.token = check_token(token or settings.access_token)
    if backend is None:
        backend = EmbeddedBackend(settings.db_path, settings.home / "archives")
    app.state.backend = backend

    @app.exception_handler(SynapseError)
    async def _synapse_error(request: Request, exc: SynapseError) -> JSONResponse:
        content: dict[str, Any] = {"detail": str(exc), "error": type(exc).__name__}
        field, sep, problem = str(exc).partition(": ")
        if sep and " " not in field:  # "tasks[3].project: ..." names the field
            content["errors"] = {field: [problem]}
        return JSONResponse(status_code=error_status(exc), content=content)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content=validation_body(exc.errors()))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            status_code=500,
            content={"detail": f"internal error: {type(exc).__name__}: {exc}", "error": "BackendError"},
        )

    @app.get("/health", tags=["health"])
    def health() -> dict[str, Any]:
        """Open liveness probe: no token needed, reveals nothing about runs."""
        return {"status": "ok", "version": __version__}

    secured = [Depends(require_token)]
    app.include_router(runs.router, dependencies=secured)
    app.include_router(live.router, dependencies=secured)
    app.include_router(releases.router, dependencies=secured)
    for router in platform.routers:
        app.include_router(router, dependencies=secured)
    from synapse_sdk.backend.server.dashboard import install as install_dashboard

    install_dashboard(app)  # the web pages at / (login, runs, platform): dashboard/__init__.py
    return app
