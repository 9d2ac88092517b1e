"""The platform's resources over HTTP, one router built from each :class:`ResourceSpec`.

``POST name/`` creates one record (a JSON object) or many (a list, stored all or none);
``GET name/`` lists them in the reference platform's envelope ``{"count", "next", "previous",
"results"}`` (``page``, ``page_size``), or by cursor with ``pagination=cursor`` (``cursor``: the
last id seen; no count); ``GET|PATCH|DELETE name/{id}/`` read, change and remove one. Query
parameters other than those filter the listing (unknown ones are refused, naming the filters
there are; repeat one for any of several values; ``null`` for unset). The reference SDK's
export listings ``sdk/tasks/``, ``sdk/assignments/`` and ``sdk/ground_truth_events/`` are the
same listings.

Bodies are read and answers written here with pydantic-core's JSON (not FastAPI's encoder, which
walks each value in Python); a listing's records come as SQLite writes them
(:meth:`~synapse_sdk.backend.store.resources.SqlResource.page_json`), never decoded here. Every
mistake is one of ours: 400 naming the field (``{"detail", "error", "errors": {field:
[problem]}}``), 404 for an id, 409 for a conflict.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request  # noqa: TID253 - server-only module
from fastapi.responses import Response, StreamingResponse  # noqa: TID253 - server-only module
from pydantic import TypeAdapter
from pydantic_core import from_json, to_json
from starlette.concurrency import run_in_threadpool

from synapse_sdk.backend.resources import RESOURCES, ResourceSpec
from synapse_sdk.backend.store.resources import SqlResource
from synapse_sdk.errors import UsageError

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import Resource

#: The listings the reference SDK's export reads under ``sdk/``.
SDK_LISTINGS = ("tasks", "assignments", "ground_truth_events")
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
_CONTROL = frozenset({"page", "page_size", "pagination", "cursor", "offset"})
_Show = Callable[[dict[str, Any]], dict[str, Any]]


def _resource(request: Request, spec: ResourceSpec) -> Resource:
    resource: Resource = request.app.state.backend.resource(spec.name)
    return resource


def _json(content: Any, status_code: int = 200) -> Response:
    return Response(to_json(content), status_code=status_code, media_type="application/json")


async def _body(request: Request) -> Any:
    """The request's JSON body, or a ``UsageError`` saying what is wrong with it."""
    raw = await request.body()
    if not raw.strip():
        raise UsageError("body: required; send a JSON object (or a list of them)")
    try:
        return from_json(raw)
    except ValueError as exc:
        raise UsageError(f"body: not valid JSON ({exc}); send a JSON object (or a list of them)") from None


def _id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 2**62:
        raise UsageError(f"path.id: expected a record id (a whole number from 1), got {text!r}")
    return int(text)


def _filters(request: Request, spec: ResourceSpec) -> dict[str, Any]:
    """Query parameters as filters: a repeated key is any of its values, ``null`` an unset field."""
    filters: dict[str, Any] = {}
    for key in request.query_params:
        if key in _CONTROL:
            continue
        values: list[Any] = request.query_params.getlist(key)
        if spec.is_nullable_filter(key):
            values = [None if v.lower() in ("null", "none") else v for v in values]
        filters[key] = values[0] if len(values) == 1 else values
    return spec.check_filters(filters, where="query")


def _int(request: Request, key: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(key)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise UsageError(f"query.{key}: expected a whole number from {low} to {high}, got {text!r}")
    return int(text)


def _url(request: Request, **params: Any) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in params]
    return f"{request.url.path}?{urlencode([*query, *params.items()])}"


def _listing(request: Request, spec: ResourceSpec, show: _Show) -> Response:
    resource = _resource(request, spec)
    filters = _filters(request, spec)
    size = _int(request, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    mode = request.query_params.get("pagination", "page")
    if mode == "cursor":
        after = _int(request, "cursor", 0, 0, 2**62)
        results, found, last = _results(resource, spec, show, filters, after=after, limit=size)
        nxt = _url(request, cursor=last) if found == size else None
        return _envelope(None, nxt, None, results)
    if mode != "page":
        raise UsageError(f"query.pagination: expected 'page' (the default) or 'cursor', got {mode!r}")
    page = _int(request, "page", 1, 1, 10**9)
    offset = _int(request, "offset", (page - 1) * size, 0, 2**62)
    results, found, _ = _results(resource, spec, show, filters, limit=size, offset=offset)
    count = resource.count(filters)
    nxt = _url(request, page=page + 1) if offset + found < count else None
    prev = _url(request, page=page - 1) if page > 1 else None
    return _envelope(count, nxt, prev, results)


def _results(
    resource: Resource, spec: ResourceSpec, show: _Show, filters: dict[str, Any], **page: int
) -> tuple[str, int, int]:
    """A page's records as JSON text, how many, and the last id: straight from SQLite when the
    records are shown as stored, else encoded here."""
    if spec.present is None and isinstance(resource, SqlResource):
        return resource.page_json(filters, **page)
    records = resource.page(filters, **page)
    return to_json([show(r) for r in records]).decode(), len(records), records[-1]["id"] if records else 0


def _envelope(count: int | None, nxt: str | None, prev: str | None, results: str) -> Response:
    """``{"count", "next", "previous", "results"}`` (no count in cursor mode) around a page's JSON."""
    head = (
        {"count": count, "next": nxt, "previous": prev}
        if count is not None
        else {"next": nxt, "previous": prev}
    )
    body = to_json(head)[:-1] + b',"results":' + results.encode() + b"}"
    return Response(body, media_type="application/json")


def router_for(spec: ResourceSpec) -> APIRouter:
    """The routes of one resource."""
    router = APIRouter(tags=[spec.name])
    show: _Show = spec.present or (lambda record: record)
    docs = _Docs(spec)

    def listing(request: Request) -> Response:
        return _listing(request, spec, show)

    listing.__doc__ = (
        f"List {spec.name}, by id: pages (``page``, ``page_size``) with a count, or a cursor "
        f"(``pagination=cursor``, ``cursor`` = the last id seen). "
        f"Filters: {', '.join(spec.filters) or 'none'}."
    )
    for path, name in (
        (f"/{spec.name}/", f"list_{spec.name}"),
        (f"/sdk/{spec.name}/", f"sdk_list_{spec.name}"),
    ):
        if name.startswith("sdk_") and spec.name not in SDK_LISTINGS:
            continue
        router.add_api_route(
            path, listing, methods=["GET"], name=name, response_class=Response, openapi_extra=docs.listing()
        )

    async def create(request: Request) -> Response:
        body = await _body(request)

        def work() -> Response:
            resource = _resource(request, spec)
            if isinstance(body, list):
                return _json([show(r) for r in resource.create_many(body)], 201)
            if not isinstance(body, dict):
                raise UsageError(f"body: expected a {spec.singular} object or a list of them")
            return _json(show(resource.create(body)), 201)

        return await run_in_threadpool(work)

    create.__doc__ = f"Create one {spec.singular} (an object) or many (a list, stored all or none)."
    router.add_api_route(
        f"/{spec.name}/",
        create,
        methods=["POST"],
        status_code=201,
        name=f"create_{spec.name}",
        response_class=Response,
        openapi_extra=docs.create(),
    )

    def read(record_id: str, request: Request) -> Response:
        return _json(show(_resource(request, spec).get(_id(record_id))))

    read.__doc__ = f"One {spec.singular}."
    router.add_api_route(
        f"/{spec.name}/{{record_id}}/",
        read,
        methods=["GET"],
        name=f"get_{spec.name}",
        response_class=Response,
        openapi_extra=docs.one(),
    )

    async def change(record_id: str, request: Request) -> Response:
        body = await _body(request)
        return await run_in_threadpool(
            lambda: _json(show(_resource(request, spec).update(_id(record_id), body)))
        )

    change.__doc__ = f"Change a {spec.singular}: {', '.join(spec.updatable) or 'nothing'} can change."
    router.add_api_route(
        f"/{spec.name}/{{record_id}}/",
        change,
        methods=["PATCH"],
        name=f"update_{spec.name}",
        response_class=Response,
        openapi_extra=docs.update(),
    )

    def remove(record_id: str, request: Request) -> Response:
        _resource(request, spec).delete(_id(record_id))
        return _json({"deleted": int(record_id)})

    remove.__doc__ = f"Remove a {spec.singular} that nothing refers to."
    router.add_api_route(
        f"/{spec.name}/{{record_id}}/",
        remove,
        methods=["DELETE"],
        name=f"delete_{spec.name}",
        response_class=Response,
        openapi_extra=docs.deleted(),
    )
    return router


def files_router() -> APIRouter:
    """Bytes of data files: ``POST data_files/upload/?name=&storage=&meta=`` (the body is the file)
    and ``GET data_files/{id}/download/`` (streamed)."""
    router = APIRouter(tags=["data_files"])
    record = _Docs(RESOURCES["data_files"]).record

    async def upload(request: Request) -> Response:
        """Store the request body as a data file (by content: the same bytes give the same data file)."""
        params = request.query_params
        name = params.get("name")
        if not name:
            raise UsageError("query.name: required; give the file's name, like 'cat.jpg'")
        storage = _id(params["storage"]) if params.get("storage") else None
        try:
            meta = json.loads(params.get("meta") or "{}")
        except ValueError:
            meta = None
        if not isinstance(meta, dict):
            raise UsageError('query.meta: expected a JSON object, like {"source": "camera-3"}')
        with tempfile.TemporaryDirectory(prefix="synapse-upload-") as tmp:
            path = Path(tmp) / "body"
            with open(path, "wb") as out:
                async for chunk in request.stream():
                    out.write(chunk)
            files = request.app.state.backend.files
            stored = await run_in_threadpool(
                lambda: files.upload(path, name=name, storage=storage, meta=meta)
            )
        return _json(stored, 201)

    def download(record_id: str, request: Request) -> StreamingResponse:
        """The bytes of a data file, streamed from its storage."""
        backend = request.app.state.backend
        data_file = backend.resource("data_files").get(_id(record_id))
        stream = backend.files.open(data_file["id"])

        def chunks() -> Iterator[bytes]:
            with stream:
                while chunk := stream.read(1 << 20):
                    yield chunk

        headers = {"X-Checksum-Sha256": data_file["checksum"], "Content-Length": str(data_file["size"])}
        return StreamingResponse(
            chunks(), media_type=data_file["mime_type"] or "application/octet-stream", headers=headers
        )

    upload_doc = {
        "parameters": [
            _param("name", {"type": "string"}, "the file's name (its extension is kept)", required=True),
            _param("storage", {"type": "integer"}, "the storage to store it in (default: the default one)"),
            _param("meta", {"type": "string"}, "a JSON object stored with the file"),
        ],
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        },
        "responses": {
            "201": {"description": "The data file", "content": {"application/json": {"schema": record}}}
        },
    }
    download_doc = {
        "responses": {
            "200": {
                "description": "The file's bytes; X-Checksum-Sha256 is their sha256",
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    }
    router.add_api_route(
        "/data_files/upload/",
        upload,
        methods=["POST"],
        status_code=201,
        name="upload_data_file",
        response_class=Response,
        openapi_extra=upload_doc,
    )
    router.add_api_route(
        "/data_files/{record_id}/download/",
        download,
        methods=["GET"],
        name="download_data_file",
        response_class=StreamingResponse,
        openapi_extra=download_doc,
    )
    return router


# -- OpenAPI --------------------------------------------------------------------------------------


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its ``$defs`` written in place (OpenAPI resolves refs from its own root)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out: dict[str, Any] = walk(schema)
    return out


def _param(name: str, schema: dict[str, Any], description: str, *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


class _Docs:
    """The OpenAPI of one resource's routes: request bodies, query parameters and answers."""

    def __init__(self, spec: ResourceSpec) -> None:
        self.spec = spec
        self.input = _inline(TypeAdapter(spec.create_schema).json_schema())
        self.changes = _inline(TypeAdapter(spec.update_schema).json_schema())
        stamps = {
            "created_at": {"type": "number"},
            **({"updated_at": {"type": "number"}} if spec.has_updated_at else {}),
        }
        self.record = {
            "title": spec.singular.title().replace(" ", "").replace("-", ""),
            "type": "object",
            "properties": {"id": {"type": "integer"}, **self.input["properties"], **stamps},
            "required": list(spec.columns),
        }

    def _answer(self, status: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        errors = {
            code: {"description": text, "content": {"application/json": {"schema": _ERROR}}}
            for code, text in (
                ("400", "A field is wrong: detail and errors name it and the fix"),
                ("401", "No access token, or the wrong one"),
                ("404", "No record with that id"),
                ("409", "A duplicate, a record others refer to, or a frozen version"),
            )
        }
        answer = {"description": description, "content": {"application/json": {"schema": schema}}}
        return {"responses": {status: answer, **errors}}

    def listing(self) -> dict[str, Any]:
        filters = [
            _param(
                key,
                self.input["properties"].get(key, {"type": "integer"}),
                f"only {self.spec.name} with this {key} (repeat it for any of several values)",
            )
            for key in self.spec.filters
        ]
        control = [
            _param("page", {"type": "integer", "minimum": 1}, "page number (page mode)"),
            _param(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                f"records per page (default {DEFAULT_PAGE_SIZE})",
            ),
            _param(
                "pagination",
                {"type": "string", "enum": ["page", "cursor"]},
                "cursor: no count, for long listings",
            ),
            _param("cursor", {"type": "integer", "minimum": 0}, "the last id seen (cursor mode)"),
        ]
        envelope = {
            "type": "object",
            "properties": {
                "count": {"type": "integer", "description": "how many match (page mode only)"},
                "next": {"type": ["string", "null"]},
                "previous": {"type": ["string", "null"]},
                "results": {"type": "array", "items": self.record},
            },
            "required": ["next", "previous", "results"],
        }
        return {
            "parameters": [*filters, *control],
            **self._answer("200", envelope, f"A page of {self.spec.name}"),
        }

    def create(self) -> dict[str, Any]:
        body = {"oneOf": [self.input, {"type": "array", "items": self.input}]}
        answer = {"oneOf": [self.record, {"type": "array", "items": self.record}]}
        return {
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            **self._answer("201", answer, "The record(s) created, with their ids"),
        }

    def one(self) -> dict[str, Any]:
        return self._answer("200", self.record, f"The {self.spec.singular}")

    def update(self) -> dict[str, Any]:
        return {
            "requestBody": {"required": True, "content": {"application/json": {"schema": self.changes}}},
            **self._answer("200", self.record, f"The {self.spec.singular} as changed"),
        }

    def deleted(self) -> dict[str, Any]:
        schema = {"type": "object", "properties": {"deleted": {"type": "integer"}}, "required": ["deleted"]}
        return self._answer("200", schema, "The id removed")


_ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "what is wrong, where, and how to fix it"},
        "error": {
            "type": "string",
            "description": "the SDK's exception class (UsageError, ResourceConflict...)",
        },
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "the problem per field, like {'tasks[3].project': ['project 9 does not exist']}",
        },
    },
    "required": ["detail"],
}

#: Every platform resource's routes, and the data files' bytes.
routers = [files_router(), *(router_for(spec) for spec in RESOURCES.values())]
