"""File bytes of the embedded platform: data files stored by content in their storage.

A file is hashed while it is read, stored under ``data_files/<sha[:2]>/<sha256><suffix>`` in the
storage (the default one unless named), and recorded as a data file with its size, sha256,
MIME type and, for images, its width and height (measured once, here, for files whose name
says image). The same bytes again give back the data file already recorded, so an interrupted
upload or import simply runs again. ``upload_many`` does many files at once: one lookup per
chunk of keys, the copies on a thread pool (``Storage.put_files``), one transaction for the
records. A given sha256 is verified while the bytes are copied, before they become visible.
"""

from __future__ import annotations

import functools
import hashlib
import mimetypes
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from synapse_sdk.errors import ResourceConflict, ResourceNotFound, StorageError, SynapseError, UsageError

if TYPE_CHECKING:
    from synapse_sdk.backend.store.resources import SqlResource
    from synapse_sdk.storage.base import Storage

CHUNK = 1 << 20
#: Keys (or checksums) looked up per query.
LOOKUP = 500
_SHA256 = re.compile(r"[0-9a-f]{64}")


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
        checksum: str | None = None,
    ) -> dict[str, Any]:
        """Store ``source`` (a path, or a binary stream) as a data file; the same bytes give the same file.

        With ``checksum``, the bytes stored must hash to it, else ``FileChecksumMismatch`` and
        nothing is recorded or stored; the file is read once, hashed while it is copied.
        """
        with _local_copy(source) as path:
            entry = {"path": path, "name": name, "checksum": checksum, "meta": meta or {}}
            outcome = self.upload_many([entry], storage, workers=1)[0]
        if isinstance(outcome, SynapseError):
            raise outcome
        return outcome

    def upload_many(
        self, files: Sequence[Mapping[str, Any]], storage: int | None = None, *, workers: int = 8
    ) -> list[dict[str, Any] | SynapseError]:
        """Store many local files as data files: one outcome per entry, in order (its record or its error).

        Each entry is ``{"path", "name" (default: the path's name), "checksum" (sha256 or None),
        "meta"}``. Files whose key is recorded already are not copied again; the others are
        copied on ``workers`` threads (each read once, hashed and verified while copied), then
        recorded in one transaction (a file recorded meanwhile by another upload is taken as it is).
        """
        record, provider = self.storage(storage)
        outcomes: list[dict[str, Any] | SynapseError | None] = [None] * len(files)
        planned: list[tuple[int, str, str, str, str | None]] = []  # (index, path, name, key, checksum)
        for index, entry in enumerate(files):
            try:
                planned.append((index, *_plan(entry)))
            except SynapseError as exc:
                outcomes[index] = exc
        found = self._recorded(record["id"], [key for *_, key, _ in planned])
        to_copy: dict[str, tuple[int, str, str, str | None]] = {}
        for index, path, name, key, checksum in planned:
            if key not in found and key not in to_copy:
                to_copy[key] = (index, path, name, checksum)
        requests = [(path, key, checksum) for key, (_, path, _, checksum) in to_copy.items()]
        stored = provider.put_files(requests, workers=workers) if requests else []
        items: dict[str, dict[str, Any]] = {}
        failed: dict[str, SynapseError] = {}
        for (key, (index, path, name, _)), result in zip(to_copy.items(), stored, strict=True):
            if isinstance(result, SynapseError):
                missing = _missing(path) if isinstance(result, StorageError) else None
                failed[key] = missing or result
                continue
            meta = files[index].get("meta") or {}
            mime = _mime_type(name)
            size = image_size(Path(path)) if mime is not None and mime.startswith("image/") else {}
            items[key] = {
                "storage": record["id"], "path": key, "size": result.size, "checksum": result.sha256,
                "mime_type": mime, "name": os.path.basename(name), "meta": {**size, **dict(meta)},
            }  # fmt: skip
        found.update(self._record(record["id"], items, failed))
        for index, _path, _name, key, _ in planned:
            outcomes[index] = found.get(key) or failed.get(key) or StorageError(f"{key}: not stored")
        return [o if o is not None else StorageError("internal: no outcome") for o in outcomes]

    def _recorded(self, storage_id: int, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The data files already recorded at ``keys`` in the storage, by key (a query per chunk)."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), LOOKUP):
            chunk = unique[start : start + LOOKUP]
            for row in self.data_files.page({"storage": storage_id, "path": chunk}, limit=len(chunk)):
                found[row["path"]] = row
        return found

    def _record(
        self, storage_id: int, items: dict[str, dict[str, Any]], failed: dict[str, SynapseError]
    ) -> dict[str, dict[str, Any]]:
        """Record ``items`` (by key) in one transaction; those another upload recorded meanwhile are theirs.

        An item that fails validation is that file's error (in ``failed``); the others are still recorded.
        """
        spec = self.data_files.spec
        rows: list[dict[str, Any]] = []
        keys: list[str] = []
        try:
            rows, keys = spec.validate_many(list(items.values()), spec.name), list(items)
        except SynapseError:  # find the bad ones: each is its own file's outcome
            for key, item in items.items():
                try:
                    rows.extend(spec.validate_many([item], spec.singular))
                    keys.append(key)
                except SynapseError as exc:
                    failed[key] = exc
        theirs: dict[str, dict[str, Any]] = {}
        for _attempt in range(5):
            try:
                created = self.data_files.insert_valid(rows, self.data_files.spec.name)
                return {**theirs, **{row["path"]: row for row in created}}
            except ResourceConflict:  # another upload recorded some of these keys since we looked
                theirs.update(self._recorded(storage_id, keys))
                kept = [(k, r) for k, r in zip(keys, rows, strict=True) if k not in theirs]
                keys, rows = [k for k, _ in kept], [r for _, r in kept]
        raise ResourceConflict("data files: the same files are recorded concurrently; upload them again")

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


def _plan(entry: Mapping[str, Any]) -> tuple[str, str, str, str | None]:
    """An upload entry's local path, name, content-addressed key and expected sha256.

    Without a ``checksum``, the file is hashed first: the copy is then verified against that
    hash, so a file that changes between the two reads is caught too.
    """
    path = os.fspath(entry["path"])
    name = str(entry.get("name") or os.path.basename(path))
    checksum = entry.get("checksum")
    if checksum is None:
        if not os.path.isfile(path):
            raise _no_file(path)
        checksum = _sha256(Path(path))[0]
    elif not isinstance(checksum, str) or not _SHA256.fullmatch(checksum):
        raise UsageError(f"{path}: checksum: expected a sha256 as 64 lowercase hex digits, got {checksum!r}")
    return path, name, f"data_files/{checksum[:2]}/{checksum}{os.path.splitext(name)[1].lower()}", checksum


def _no_file(path: str) -> UsageError:
    return UsageError(f"{path}: no such file; give the path of a file to upload")


def _missing(path: str) -> SynapseError | None:
    """``UsageError`` when a copy failed because the file is not there (checked only then), else None."""
    return _no_file(path) if not os.path.isfile(path) else None


@functools.lru_cache(maxsize=256)
def _mime_by_suffix(suffix: str) -> str | None:
    return mimetypes.guess_type(f"file{suffix}")[0]


def _mime_type(name: str) -> str | None:
    """The MIME type a file's name says (looked up once per suffix)."""
    return _mime_by_suffix(os.path.splitext(name)[1])


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
