"""The platform's resources over HTTP, one router built from each :class:`ResourceSpec`.

``POST name/`` creates one record (a JSON object) or many (a list, stored all or none);
``GET name/`` lists them in the reference platform's envelope ``{"count", "next", "previous",
"results"}`` (``page``, ``page_size``), or by cursor with ``pagination=cursor`` (``cursor``: the
last id seen; no count); ``GET|PATCH|DELETE name/{id}/`` read, change and remove one. Query
parameters other than those filter the listing (unknown ones are refused, naming the filters
there are; repeat one for any of several values; ``null`` for unset). The reference SDK's
export listings ``sdk/tasks/``, ``sdk/assignments/`` and ``sdk/ground_truth_events/`` are the
same listings.

Bodies are read and answers written with pydantic-core's JSON (``routes/bodies.py``); a
listing's records come as SQLite writes them
(:meth:`~synapse_sdk.backend.store.resources.SqlResource.page_json`), never decoded here. Every
mistake is one of ours: 400 naming the field (``{"detail", "error", "errors": {field:
[problem]}}``), 404 for an id, 409 for a conflict. The routes' OpenAPI comes from
``server/openapi.py``; the data files' bytes have their own routes (``routes/files.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request  # noqa: TID253 - server-only module
from fastapi.responses import Response  # noqa: TID253 - server-only module
from pydantic_core import to_json
from starlette.concurrency import run_in_threadpool

from synapse_sdk.backend.resources import RESOURCES
from synapse_sdk.backend.server.openapi import ResourceDocs
from synapse_sdk.backend.server.routes.bodies import json_response, path_id, read_body
from synapse_sdk.backend.server.routes.files import files_router
from synapse_sdk.backend.spec import ResourceSpec
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
    docs = ResourceDocs(spec)

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
            path,
            listing,
            methods=["GET"],
            name=name,
            response_class=Response,
            openapi_extra=docs.listing(MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
        )

    async def create(request: Request) -> Response:
        body = await read_body(request)

        def work() -> Response:
            resource = _resource(request, spec)
            if isinstance(body, list):
                return json_response([show(r) for r in resource.create_many(body)], 201)
            if not isinstance(body, dict):
                raise UsageError(f"body: expected a {spec.singular} object or a list of them")
            return json_response(show(resource.create(body)), 201)

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
        return json_response(show(_resource(request, spec).get(path_id(record_id))))

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
        body = await read_body(request)
        return await run_in_threadpool(
            lambda: json_response(show(_resource(request, spec).update(path_id(record_id), body)))
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
        _resource(request, spec).delete(path_id(record_id))
        return json_response({"deleted": int(record_id)})

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


#: Every platform resource's routes, and the data files' bytes.
routers = [files_router(), *(router_for(spec) for spec in RESOURCES.values())]
