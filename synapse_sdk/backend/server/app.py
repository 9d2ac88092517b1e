"""``create_app(settings)``: the HTTP backend application (FastAPI), token required on the API.

Routers live in :mod:`synapse_sdk.backend.server.routes`, one per resource; each is included
here behind :func:`~synapse_sdk.backend.server.auth.require_token`. ``GET /health`` is open so
that supervisors and tests can poll it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import RunConflict, RunNotFound, SynapseError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from synapse_sdk.backend.store.runs import RunStore
    from synapse_sdk.settings import Settings


def error_status(exc: SynapseError) -> int:
    """The HTTP status for one of our errors: 404 unknown, 409 conflict, 400 bad input, else 500."""
    if isinstance(exc, RunNotFound):
        return 404
    if isinstance(exc, RunConflict):
        return 409
    return 400 if exc.exit_code == 2 else 500


def create_app(settings: Settings, store: RunStore | None = None, token: str | None = None) -> FastAPI:
    """The backend app over the embedded store at ``settings.db_path`` (or ``store``)."""
    from fastapi import Depends, FastAPI, Request
    from fastapi.responses import JSONResponse

    from synapse_sdk import __version__
    from synapse_sdk.backend.server.auth import check_token, require_token
    from synapse_sdk.backend.server.routes import releases, runs
    from synapse_sdk.backend.store.runs import RunStore

    app = FastAPI(
        title="Synapse backend",
        version=__version__,
        description="Runs, their logs, progress, metrics and results. Send 'Authorization: Bearer <token>'.",
    )
    app.state.settings = settings
    app.state.token = check_token(token or settings.access_token)
    app.state.store = store if store is not None else RunStore(settings.db_path)

    @app.exception_handler(SynapseError)
    async def _synapse_error(request: Request, exc: SynapseError) -> JSONResponse:
        return JSONResponse(
            status_code=error_status(exc), content={"detail": str(exc), "error": type(exc).__name__}
        )

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
    app.include_router(releases.router, dependencies=secured)
    return app
