"""Where an export goes: ``path`` inside a storage, never outside it.

``storage`` is a platform storage id. A local storage's folder is written in place. A remote
one (S3) is written in a staging folder under ``SYNAPSE_HOME/exports/`` and published (each file
uploaded under ``<path>/<name>/``) when the export finishes, so a killed export resumes from its
staging folder. A string ``storage`` is a local folder (relative to the plugin folder), for trying
an exporter without a platform.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import PathOutsideRoot, UsageError

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient
    from synapse_sdk.storage.base import Storage

#: Files uploaded at once when a remote export is published.
PUBLISH_WORKERS = 8


@dataclass
class Destination:
    """The folder export folders are made in (``root``), and the remote storage it is published to."""

    root: Path
    #: How messages name the destination: ``storage 2 'archive' (s3://bucket/exports)``.
    label: str
    storage: Storage | None = None
    #: The key of ``path`` inside the remote storage.
    prefix: str = ""

    @property
    def is_remote(self) -> bool:
        """True when the export is staged here and published to a remote storage at the end."""
        return self.storage is not None

    def key(self, name: str, relative: str = "") -> str:
        """The storage key of ``relative`` inside the export folder ``name``."""
        return "/".join(part for part in (self.prefix, name, relative) if part)

    def taken(self, name: str) -> bool:
        """Whether an export folder ``name`` exists (staged here, or published already)."""
        if (self.root / name).exists():
            return True
        if self.storage is None:
            return False
        return next(iter(self.storage.list(self.key(name))), None) is not None

    def where(self, name: str) -> str:
        """Where the export folder ``name`` is for its users: a local path or an ``s3://`` URL."""
        if self.storage is None:
            return str(self.root / name)
        return self.storage.url(self.key(name))

    def read_published(self, name: str, relative: str) -> bytes | None:
        """A published file of export ``name``, or None."""
        if self.storage is None or not self.storage.exists(self.key(name, relative)):
            return None
        return self.storage.read_bytes(self.key(name, relative))

    def publish(self, folder: Path) -> int:
        """Upload every file of the staged export ``folder`` (again: uploads are idempotent), then
        remove the staging folder; returns how many files were uploaded."""
        storage = self.storage
        if storage is None:
            return 0
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        with ThreadPoolExecutor(PUBLISH_WORKERS, thread_name_prefix="export-publish") as pool:
            keys = [self.key(folder.name, p.relative_to(folder).as_posix()) for p in files]
            list(pool.map(storage.put_file, files, keys))
        shutil.rmtree(folder, ignore_errors=True)
        return len(files)


def resolve_destination(
    storage: int | str, path: str, *, client: BackendClient | None, plugin_path: Path | None, home: Path
) -> Destination:
    """The destination of ``storage`` + ``path``; ``PathOutsideRoot`` if ``path`` leaves the storage."""
    if isinstance(storage, str):
        root = ((plugin_path or Path.cwd()) / Path(storage).expanduser()).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise _outside(path, str(root))
        return Destination(target, label=str(target))
    if client is None:
        raise TypeError("a platform storage needs the client")
    record, provider = open_storage(client, storage)
    clean = _clean(path, record)
    label = f"storage {record['id']} {record['name']!r}"
    if provider.provider == "local":
        root = Path(record["configuration"]["root"])
        target = Path(provider.resolve(clean)) if clean else root  # resolve refuses links out of the root
        return Destination(target, label=f"{label} ({target})")
    staging = home / "exports" / f"storage-{record['id']}" / clean
    return Destination(
        staging, label=f"{label} ({provider.url(clean or '.')})", storage=provider, prefix=clean
    )


def open_storage(client: BackendClient, storage_id: int) -> tuple[dict[str, Any], Storage]:
    """A platform storage's record and provider (``ResourceNotFound`` if there is no such storage).

    The embedded platform opens it with its credentials; over HTTP the credentials stay on the
    server, so only a storage that needs none here (a local folder, S3 from the environment) opens.
    """
    opener = getattr(client.backend.files, "storage", None)
    if callable(opener):
        record, provider = opener(storage_id)
        return record, provider
    from synapse_sdk._redact import MASK
    from synapse_sdk.storage import get_storage

    record = client.get_storage(storage_id)
    configuration = dict(record["configuration"])
    if MASK in configuration.values():
        raise UsageError(
            f"params.storage: storage {storage_id} keeps its credentials on the server; export to it "
            "from the server's machine, or to a storage this machine can reach"
        )
    return record, get_storage({"provider": record["provider"], **configuration}, name=record["name"])


def _clean(path: str, record: dict[str, Any]) -> str:
    from synapse_sdk.storage.base import normalize_key

    try:
        return normalize_key(record["name"], path, allow_root=True)
    except PathOutsideRoot:
        raise _outside(path, f"of storage {record['id']} {record['name']!r}") from None


def _outside(path: str, root: str) -> PathOutsideRoot:
    return PathOutsideRoot(
        f"params.path: {path!r} leaves the storage root {root}; use a relative path like 'exports'"
    )
