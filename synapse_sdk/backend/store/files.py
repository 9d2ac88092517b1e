"""File bytes of the embedded platform: data files stored by content in their storage.

A file is hashed while it is read, stored under ``data_files/<sha[:2]>/<sha256><suffix>`` in the
storage (the default one unless named), and recorded as a data file with its size, sha256,
MIME type and, for images, its width and height (measured once, here). The same bytes again
give back the data file already recorded, so an interrupted upload or import simply runs again.
"""

from __future__ import annotations

import hashlib
import mimetypes
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from synapse_sdk.errors import ResourceConflict, ResourceNotFound, StorageError, UsageError

if TYPE_CHECKING:
    from synapse_sdk.backend.store.resources import SqlResource
    from synapse_sdk.storage.base import Storage

CHUNK = 1 << 20


class EmbeddedFiles:
    """Upload and open the bytes of data files, over the embedded store's storages and data files."""

    def __init__(self, storages: SqlResource, data_files: SqlResource) -> None:
        self.storages = storages
        self.data_files = data_files
        self._opened: dict[int, tuple[float, Storage]] = {}

    def storage(self, storage_id: int | None = None) -> tuple[dict[str, Any], Storage]:
        """A storage's record and its provider (the default storage when ``storage_id`` is None)."""
        from synapse_sdk.storage import get_storage
        from synapse_sdk.storage.config import parse_config

        if storage_id is None:
            found = self.storages.page({"is_default": True}, limit=1)
            if not found:
                raise ResourceNotFound("no default storage; create one with is_default=true")
            record = found[0]
        else:
            record = self.storages.get(storage_id)
        cached = self._opened.get(record["id"])
        if cached is None or cached[0] != record["created_at"]:
            config = parse_config(
                {"provider": record["provider"], **record["configuration"]}, f"storage {record['id']}"
            )
            cached = self._opened[record["id"]] = (
                record["created_at"],
                get_storage(config, name=record["name"]),
            )
        return record, cached[1]

    def upload(
        self,
        source: Path | BinaryIO,
        *,
        name: str,
        storage: int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store ``source`` (a path, or a binary stream) as a data file; the same bytes give the same file."""
        record, provider = self.storage(storage)
        with _local_copy(source) as path:
            checksum, size = _sha256(path)
            key = f"data_files/{checksum[:2]}/{checksum}{Path(name).suffix.lower()}"
            existing = self.data_files.page({"storage": record["id"], "path": key}, limit=1)
            if existing:
                return existing[0]
            provider.put_file(path, key)
            item = {
                "storage": record["id"], "path": key, "size": size, "checksum": checksum,
                "mime_type": mimetypes.guess_type(name)[0], "name": Path(name).name,
                "meta": {**image_size(path), **dict(meta or {})},
            }  # fmt: skip
        try:
            return self.data_files.create(item)
        except ResourceConflict:  # another process stored the same bytes meanwhile
            return self.data_files.page({"storage": record["id"], "path": key}, limit=1)[0]

    def open(self, data_file_id: int) -> BinaryIO:
        """The bytes of a data file, streamed from its storage."""
        data_file = self.data_files.get(data_file_id)
        _, provider = self.storage(data_file["storage"])
        try:
            return provider.open_read(data_file["path"])
        except StorageError:
            if provider.exists(data_file["path"]):
                raise
            raise ResourceNotFound(
                f"data file {data_file_id}: its bytes are not in storage {provider.name!r} at "
                f"{data_file['path']!r}; upload the file again (POST data_files/upload/)"
            ) from None


class _local_copy:  # noqa: N801 - a context manager used like a function
    """``source`` as a local path: itself, or a temporary copy of a stream (removed after)."""

    def __init__(self, source: Path | BinaryIO) -> None:
        self.source = source
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        if isinstance(self.source, Path):
            if not self.source.is_file():
                raise UsageError(f"{self.source}: no such file; give the path of a file to upload")
            return self.source
        handle, name = tempfile.mkstemp(prefix="synapse-upload-")
        with open(handle, "wb") as out:
            shutil.copyfileobj(self.source, out, CHUNK)
        self.tmp = Path(name)
        return self.tmp

    def __exit__(self, *exc: object) -> None:
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def image_size(path: Path) -> dict[str, int]:
    """``{"width", "height"}`` of an image file (what COCO, YOLO and VOC need), or ``{}``."""
    try:
        from PIL import Image
    except ImportError:  # Pillow is optional: without it, sizes come from the annotations' source
        return {}
    try:
        with Image.open(path) as image:
            width, height = image.size
    except Exception:  # noqa: BLE001 - not an image (or one Pillow cannot read): no size to record
        return {}
    return {"width": int(width), "height": int(height)}
