"""The bytes of data files over HTTP: ``POST data_files/upload/`` and ``GET data_files/{id}/download/``.

An upload's body is the file itself, streamed to a temporary file and stored by content (the
same bytes give back the same data file); a download streams the file from its storage, its
sha256 in ``X-Checksum-Sha256``. The data files' records are the generic routes'
(``routes/platform.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, Request  # noqa: TID253 - server-only module
from fastapi.responses import Response, StreamingResponse  # noqa: TID253 - server-only module
from starlette.concurrency import run_in_threadpool

from synapse_sdk.backend.resources import RESOURCES
from synapse_sdk.backend.server.openapi import ResourceDocs, query_param
from synapse_sdk.backend.server.routes.bodies import json_response, path_id
from synapse_sdk.errors import FileChecksumMismatch, UsageError

_SHA256 = re.compile(r"[0-9a-f]{64}")


def files_router() -> APIRouter:
    """Bytes of data files: ``POST data_files/upload/?name=&storage=&meta=&checksum=`` (the body is the file)
    and ``GET data_files/{id}/download/`` (streamed)."""
    router = APIRouter(tags=["data_files"])
    record = ResourceDocs(RESOURCES["data_files"]).record

    async def upload(request: Request) -> Response:
        """Store the request body as a data file (by content: the same bytes give the same data file)."""
        params = request.query_params
        name = params.get("name")
        if not name:
            raise UsageError("query.name: required; give the file's name, like 'cat.jpg'")
        storage = path_id(params["storage"]) if params.get("storage") else None
        try:
            meta = json.loads(params.get("meta") or "{}")
        except ValueError:
            meta = None
        if not isinstance(meta, dict):
            raise UsageError('query.meta: expected a JSON object, like {"source": "camera-3"}')
        expected = params.get("checksum") or None
        if expected is not None and not _SHA256.fullmatch(expected):
            raise UsageError(f"query.checksum: expected a sha256 (64 lowercase hex digits), got {expected!r}")
        with tempfile.TemporaryDirectory(prefix="synapse-upload-") as tmp:
            path = Path(tmp) / "body"
            digest = hashlib.sha256()
            with open(path, "wb") as out:
                async for chunk in request.stream():
                    digest.update(chunk)
                    out.write(chunk)
            actual = digest.hexdigest()
            if expected is not None and actual != expected:
                raise FileChecksumMismatch(
                    f"{name}: expected sha256 {expected}, but the bytes received hash to {actual}: "
                    "the file changed while it was uploaded; upload it again",
                    path=name,
                    expected=expected,
                    actual=actual,
                )
            files = request.app.state.backend.files
            stored = await run_in_threadpool(
                lambda: files.upload(path, name=name, storage=storage, meta=meta, checksum=actual)
            )
        return json_response(stored, 201)

    def download(record_id: str, request: Request) -> StreamingResponse:
        """The bytes of a data file, streamed from its storage."""
        backend = request.app.state.backend
        data_file = backend.resource("data_files").get(path_id(record_id))
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
            query_param("name", {"type": "string"}, "the file's name (its extension is kept)", required=True),
            query_param(
                "storage", {"type": "integer"}, "the storage to store it in (default: the default one)"
            ),
            query_param("meta", {"type": "string"}, "a JSON object stored with the file"),
            query_param(
                "checksum", {"type": "string"}, "the sha256 the bytes must hash to (else 400, nothing stored)"
            ),
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
