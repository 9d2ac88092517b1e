"""Security headers on every answer of the server (a plain ASGI middleware: streams stay streams).

Now that a browser holds a session cookie, a file served by the API (a data file someone uploaded
as HTML, an artifact) must never run as a page of this origin: every answer that sets no policy of
its own gets ``Content-Security-Policy: sandbox; default-src 'none'`` (an image still shows in an
``<img>``), ``nosniff`` and no referrer. The dashboard's pages set their own, strict policy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The policy of an answer that is not one of the dashboard's pages.
SANDBOX = b"sandbox; default-src 'none'; frame-ancestors 'none'"
#: The policy of the dashboard's pages: scripts, styles and images of this origin only, no inline code.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]


class SecurityHeaders:
    """Adds the headers above to each HTTP answer that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", SANDBOX))
                headers.extend(pair for pair in _ALWAYS if pair[0] not in names)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
