"""The web dashboard: pages served by the backend server at ``/``, live from its JSON API.

:func:`install` adds the login page, the page shell, the vendored static files (plain ES
modules, no CDN: it works offline) and the JSON routes only the dashboard needs (a run's
folders and their files) to an app made by
:func:`~synapse_sdk.backend.server.app.create_app`. The browser logs in once with the server's
token and keeps an HttpOnly cookie (:mod:`.session`); every page, JSON call and event stream
needs it. Everything shown is written into the page as text (never as HTML), and a strict
Content-Security-Policy forbids inline scripts as a second wall.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Serve the dashboard from ``app``: ``/`` (pages), ``/login``, ``/static/dashboard/``, ``/ui/api/``."""
    from fastapi import Depends

    from synapse_sdk.backend.server.auth import require_token
    from synapse_sdk.backend.server.dashboard import files, pages
    from synapse_sdk.backend.server.dashboard.headers import SecurityHeaders

    app.include_router(pages.router)
    app.include_router(files.router, dependencies=[Depends(require_token)])
    app.add_middleware(SecurityHeaders)
