"""``/releases``: publish a release (archive checked against its sha256 and metadata), list, get, download."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response  # noqa: TID253 - server-only module
from pydantic import BaseModel

from synapse_sdk.backend.schemas import NewRelease, ReleaseRecord
from synapse_sdk.backend.server.routes.bodies import StrictJsonRoute
from synapse_sdk.backend.store.releases import ReleaseStore
from synapse_sdk.errors import ReleaseError

router = APIRouter(prefix="/releases", tags=["releases"], route_class=StrictJsonRoute)


class PublishIn(BaseModel):
    """A release's metadata and its archive, base64-encoded."""

    release: NewRelease
    archive_b64: str


class PublishOut(BaseModel):
    """The stored release and whether this request created it."""

    release: ReleaseRecord
    created: bool


def _store(request: Request) -> ReleaseStore:
    releases: ReleaseStore = request.app.state.backend.releases
    return releases


@router.post("", response_model=PublishOut)
def publish(body: PublishIn, request: Request) -> PublishOut:
    """Store a release whose archive is what its metadata says (else 400).

    The archive must hash to the declared checksum and size, be a release archive every member
    of which extraction would accept, and hold a ``config.yaml`` naming the code, version and
    category sent with it (see ``ReleaseStore.add_release``).
    """
    try:
        archive = base64.b64decode(body.archive_b64, validate=True)
    except (binascii.Error, ValueError):  # ValueError: characters beyond ASCII
        raise ReleaseError("archive_b64: not valid base64; send the archive's bytes base64-encoded") from None
    record, created = _store(request).add_release(body.release, archive)
    return PublishOut(release=record, created=created)


@router.get("", response_model=list[ReleaseRecord])
def list_releases(request: Request, code: str | None = None) -> list[ReleaseRecord]:
    """Releases of ``code`` (every plugin when omitted), newest version first."""
    return _store(request).list_releases(code)


@router.get("/{code}/latest", response_model=ReleaseRecord)
def latest(code: Annotated[str, Path(max_length=100)], request: Request) -> ReleaseRecord:
    """The newest stable release of ``code``."""
    return _store(request).get_release(code)


@router.get("/{code}/{version}", response_model=ReleaseRecord)
def get_release(
    code: Annotated[str, Path(max_length=100)], version: Annotated[str, Path(max_length=64)], request: Request
) -> ReleaseRecord:
    """One release."""
    return _store(request).get_release(code, version)


@router.get("/{code}/{version}/archive")
def archive(
    code: Annotated[str, Path(max_length=100)], version: Annotated[str, Path(max_length=64)], request: Request
) -> Response:
    """The archive bytes as stored; the client verifies them against the release's checksum."""
    store = _store(request)
    record = store.get_release(code, version)
    data = store.fetch_archive(record, store.archives_dir).read_bytes()
    return Response(
        content=data, media_type="application/gzip", headers={"X-Checksum-Sha256": record.checksum}
    )
