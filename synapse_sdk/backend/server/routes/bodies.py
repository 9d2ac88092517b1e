"""JSON in and out of the routes, with pydantic-core (not FastAPI's encoder, which walks each value
in Python, nor ``json``, which lets a lone surrogate in), and record ids read from the path;
every mistake a ``UsageError``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request  # noqa: TID253 - server-only module
from fastapi.responses import Response  # noqa: TID253 - server-only module
from fastapi.routing import APIRoute  # noqa: TID253 - server-only module
from pydantic_core import from_json, to_json

from synapse_sdk.errors import UsageError


def json_response(content: Any, status_code: int = 200) -> Response:
    """``content`` as a JSON answer."""
    return Response(to_json(content), status_code=status_code, media_type="application/json")


async def read_body(request: Request) -> Any:
    """The request's JSON body, or a ``UsageError`` saying what is wrong with it."""
    raw = await request.body()
    if not raw.strip():
        raise UsageError("body: required; send a JSON object (or a list of them)")
    try:
        return from_json(raw)
    except ValueError as exc:
        raise UsageError(f"body: not valid JSON ({exc}); send a JSON object (or a list of them)") from None


def path_id(text: str) -> int:
    """A record id from the path (a whole number from 1), or a ``UsageError``."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 2**62:
        raise UsageError(f"path.id: expected a record id (a whole number from 1), got {text!r}")
    return int(text)


class _StrictJsonRequest(Request):
    """A request whose JSON body is parsed by pydantic-core: text that is not Unicode (a lone
    surrogate escape such as ``"\\ud800"``, which SQLite cannot store) is invalid JSON here."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = from_json(body)
            except ValueError as exc:
                raise _decode_error(str(exc), body.decode("utf-8", "replace")) from None
        return self._json


def _decode_error(message: str, doc: str) -> json.JSONDecodeError:
    """pydantic-core's complaint as the ``JSONDecodeError`` FastAPI answers with a 422."""
    found = re.search(r" at line (\d+) column (\d+)$", message)
    pos = 0
    if found:
        message = message[: found.start()]
        lines = doc.splitlines(keepends=True)
        line, column = int(found[1]), int(found[2])
        pos = sum(len(text) for text in lines[: line - 1]) + column - 1
    if "hex escape" in message or "surrogate" in message:
        message += "; text must be Unicode, without a lone UTF-16 surrogate such as \\ud800"
    return json.JSONDecodeError(message, doc, max(pos, 0))


class StrictJsonRoute(APIRoute):
    """A route whose JSON body is read by :class:`_StrictJsonRequest` (``APIRouter(route_class=...)``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(_StrictJsonRequest(request.scope, request.receive))

        return strict
