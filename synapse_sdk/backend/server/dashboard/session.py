"""The dashboard's browser session: a cookie and a CSRF token, both derived from the server's token.

A browser cannot send ``Authorization: Bearer`` with a page load, an ``<img>`` or an
``EventSource``, so the login page takes the token once and answers with an HttpOnly,
SameSite=Strict cookie. The cookie's value is an HMAC of the token (the token itself never sits in
the browser), so any server holding the same token recognises it, and changing the token logs
every browser out. Writes made with the cookie alone (stopping a run) also carry the CSRF token,
another HMAC of the token that the page reads from its ``<meta name="csrf-token">``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

#: The cookie that holds the session.
COOKIE = "synapse_session"
#: The header a page's script sends its CSRF token in.
CSRF_HEADER = "x-csrf-token"
#: How long a login lasts (seconds): a working day and a half.
MAX_AGE = 36 * 3600
#: Methods that change nothing, allowed with the cookie alone.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _derive(token: str, purpose: str) -> str:
    return hmac.new(token.encode(), f"synapse-dashboard:{purpose}".encode(), hashlib.sha256).hexdigest()


def session_value(token: str) -> str:
    """The cookie value that proves a browser logged in with ``token``."""
    return _derive(token, "session")


def csrf_token(token: str) -> str:
    """The CSRF token pages send with their writes (``X-CSRF-Token``)."""
    return _derive(token, "csrf")


def has_session(cookies: Mapping[str, str], token: str) -> bool:
    """True when the request's cookies hold the session of ``token`` (constant-time)."""
    given = cookies.get(COOKIE) or ""
    return bool(given) and secrets.compare_digest(given.encode(), session_value(token).encode())


def csrf_ok(headers: Mapping[str, str], token: str) -> bool:
    """True when the request carries the CSRF token of ``token`` (constant-time)."""
    given = headers.get(CSRF_HEADER) or ""
    return secrets.compare_digest(given.encode(), csrf_token(token).encode())


def cookie_header(token: str, secure: bool) -> str:
    """The ``Set-Cookie`` value of a fresh login: HttpOnly, SameSite=Strict, for the whole site."""
    flags = f"; Max-Age={MAX_AGE}; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
    return f"{COOKIE}={session_value(token)}{flags}"


def logout_header(secure: bool) -> str:
    """The ``Set-Cookie`` value that ends the session."""
    return f"{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
