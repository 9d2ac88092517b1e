"""The bearer-token check every API route depends on (constant-time comparison)."""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request  # noqa: TID253 - server-only module, loaded by `backend serve`

from synapse_sdk.backend.server.dashboard import session
from synapse_sdk.errors import UsageError

#: Header the client sends: ``Authorization: Bearer <SYNAPSE_ACCESS_TOKEN>``.
SCHEME = "bearer"


def check_token(expected: str | None) -> str:
    """The server refuses to start without a token: an open run store would leak every run."""
    if not expected:
        raise UsageError(
            "SYNAPSE_ACCESS_TOKEN is not set; the HTTP backend requires a token. "
            "Set it (e.g. export SYNAPSE_ACCESS_TOKEN=$(python -c 'import secrets;"
            " print(secrets.token_urlsafe(32))')) or pass --token"
        )
    return expected


#: The reference platform's header: ``Synapse-Access-Token: Token <token>``.
PLATFORM_HEADER = "synapse-access-token"


def token_matches(header: str | None, expected: str, scheme_name: str = SCHEME) -> bool:
    """True when ``header`` is ``<scheme> <expected>``; compared in constant time."""
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != scheme_name:
        return False
    return secrets.compare_digest(given.strip().encode(), expected.encode())


def require_token(request: Request) -> None:
    """FastAPI dependency: 401 unless the request carries the server's token, as
    ``Authorization: Bearer <token>`` or the platform's ``Synapse-Access-Token: Token <token>``, or
    the dashboard's session cookie (a write with the cookie alone also needs its CSRF token: else 403)."""
    expected = request.app.state.token
    if token_matches(request.headers.get("authorization"), expected) or token_matches(
        request.headers.get(PLATFORM_HEADER), expected, "token"
    ):
        return
    if session.has_session(request.cookies, expected):  # the dashboard's browser (see dashboard/session.py)
        if request.method in session.SAFE_METHODS or session.csrf_ok(request.headers, expected):
            return
        raise HTTPException(
            status_code=403,
            detail="x-csrf-token: missing or wrong; a write made with the dashboard's cookie must send "
            "the page's CSRF token (<meta name='csrf-token'>) in X-CSRF-Token",
        )
    raise HTTPException(
        status_code=401,
        detail="missing or wrong access token; send 'Authorization: Bearer <token>' (or "
        "'Synapse-Access-Token: Token <token>') with the server's SYNAPSE_ACCESS_TOKEN",
        headers={"WWW-Authenticate": "Bearer"},
    )
