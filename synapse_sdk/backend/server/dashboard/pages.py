"""The dashboard's pages: the login form, the page shell at ``/`` and the vendored static files.

The shell is one HTML page; the views (runs, a run, plugins, the platform) are ES modules under
``static/`` that read the JSON API and its event streams and write every value as text. A browser
without the session cookie is sent to ``/login``; the login takes the token once (from the form,
or from ``?token=`` in the URL ``synapse ui`` prints) and sets the cookie.
"""

from __future__ import annotations

import html
import secrets
from pathlib import Path
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request  # noqa: TID253 - server-only module
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response  # noqa: TID253

from synapse_sdk.backend.server.dashboard import session
from synapse_sdk.backend.server.dashboard.headers import PAGE_POLICY

router = APIRouter(include_in_schema=False)

#: The vendored scripts, styles and images, shipped in the wheel with the package.
STATIC = Path(__file__).with_name("static")
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".txt": "text/plain"}
_MAX_FORM = 4096
#: The ES modules app.js imports, fetched at once (not one import level after another).
MODULES = ("dom.js", "api.js", "chart.js", "runs.js", "run.js", "plugins.js", "platform.js")


def _page(title: str, body: str, status: int = 200, head: str = "") -> HTMLResponse:
    """A complete page under the dashboard's strict policy (``body`` is HTML we wrote, values escaped)."""
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="icon" href="/static/dashboard/favicon.svg">'
        f'<link rel="stylesheet" href="/static/dashboard/style.css">{head}</head>'
        f"<body>{body}</body></html>"
    )
    headers = {"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store"}
    return HTMLResponse(text, status_code=status, headers=headers)


def _safe_next(target: str | None) -> str:
    """Where to go after login: a path of this site only (``/#/runs/x``), never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_form(next_url: str, problem: str = "", status: int = 200) -> HTMLResponse:
    error = f'<p class="error" role="alert">{html.escape(problem)}</p>' if problem else ""
    body = (
        '<main class="login"><h1>Synapse</h1><p>Paste the server\'s access token '
        "(<code>SYNAPSE_ACCESS_TOKEN</code>, or the one <code>synapse ui</code> printed).</p>"
        f'{error}<form method="post" action="/login">'
        f'<input type="hidden" name="next" value="{html.escape(next_url)}">'
        '<label>Access token <input type="password" name="token" autocomplete="current-password" '
        'required autofocus></label><button type="submit">Log in</button></form></main>'
    )
    return _page("Log in · Synapse", body, status)


def _logged_in(request: Request, given: str, next_url: str) -> Response:
    """Set the cookie when ``given`` is the server's token, else the form again with a 401."""
    expected: str = request.app.state.token
    if not secrets.compare_digest(given.encode(), expected.encode()):
        return _login_form(
            next_url, "That is not the access token of this server; check it and try again.", 401
        )
    reply = RedirectResponse(_safe_next(next_url), status_code=303)
    reply.headers["Set-Cookie"] = session.cookie_header(expected, request.url.scheme == "https")
    reply.headers["Cache-Control"] = "no-store"
    return reply


@router.get("/login")
def login_page(request: Request) -> Response:
    """The login form; ``?token=`` logs in at once (the link ``synapse ui`` prints)."""
    next_url = _safe_next(request.query_params.get("next"))
    given = request.query_params.get("token")
    if given is not None:
        return _logged_in(request, given, next_url)
    return _login_form(next_url)


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the form's token and set the session cookie (303 to the page asked for)."""
    body = await request.body()
    if len(body) > _MAX_FORM:
        return _login_form("/", "The form is too large: send only the token.", 400)
    form = parse_qs(body.decode("utf-8", "replace"))
    return _logged_in(request, (form.get("token") or [""])[0].strip(), (form.get("next") or ["/"])[0])


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session: the cookie is cleared and the browser sent to the login form."""
    reply = RedirectResponse("/login", status_code=303)
    reply.headers["Set-Cookie"] = session.logout_header(request.url.scheme == "https")
    return reply


@router.get("/")
def index(request: Request) -> Response:
    """The dashboard (its views are chosen by the URL's ``#/...``); the login form first if needed."""
    token: str = request.app.state.token
    if not session.has_session(request.cookies, token):
        return RedirectResponse(f"/login?next={quote('/', safe='')}", status_code=303)
    preload = "".join(f'<link rel="modulepreload" href="/static/dashboard/{name}">' for name in MODULES)
    head = (
        f'<meta name="csrf-token" content="{session.csrf_token(token)}">{preload}'
        '<script type="module" src="/static/dashboard/app.js"></script>'
    )
    body = (
        '<header class="top"><a class="brand" href="#/runs">Synapse</a><nav>'
        '<a href="#/runs">Runs</a><a href="#/plugins">Plugins</a><a href="#/projects">Projects</a>'
        '<a href="#/models">Models</a></nav>'
        '<form method="post" action="/logout"><button class="link">Log out</button></form></header>'
        '<main id="view" aria-live="polite"><p class="muted">Loading…</p></main>'
    )
    return _page("Synapse dashboard", body, head=head)


@router.get("/static/dashboard/{name:path}")
def static(name: str) -> Response:
    """A vendored file of the dashboard (no data in them: served without the token)."""
    path = (STATIC / name).resolve()
    if not path.is_relative_to(STATIC.resolve()) or not path.is_file() or path.suffix not in _TYPES:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(path, media_type=_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})
