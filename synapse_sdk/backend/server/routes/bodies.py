"""JSON in and out of the platform's routes, with pydantic-core (not FastAPI's encoder, which walks
each value in Python), and record ids read from the path; every mistake a ``UsageError``."""

from __future__ import annotations

from typing import Any

from fastapi import Request  # noqa: TID253 - server-only module
from fastapi.responses import Response  # noqa: TID253 - server-only module
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
