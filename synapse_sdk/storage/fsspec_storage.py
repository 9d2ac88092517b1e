"""The one ``Storage`` implementation: fsspec filesystems reached through universal-pathlib.

A provider is a configuration model plus a line in ``_target`` (its fsspec URL and options);
everything else — confinement, atomic writes, streaming, hashing, listing and the error
map — is shared. fsspec, universal-pathlib and s3fs are imported on first use, so
``import synapse_sdk.storage`` stays cheap.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from synapse_sdk.errors import PathOutsideRoot, StorageError, SynapseError
from synapse_sdk.storage._errors import Where, is_missing_bucket, root_error, translate
from synapse_sdk.storage._streams import (
    CHUNK,
    PART,
    TEMP_SUFFIX,
    ObjectSink,
    Reader,
    Sink,
    TempFileSink,
    chunks,
)
from synapse_sdk.storage.base import PutRequest, StoredFile, checksum_mismatch, normalize_key
from synapse_sdk.storage.config import LocalConfig, S3Config

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

# Bounded waits: an unreachable endpoint fails in seconds (3 s connect x 2 attempts), not minutes.
_S3_CLIENT_CONFIG = {
    "connect_timeout": 3,
    "read_timeout": 30,
    "retries": {"max_attempts": 2, "mode": "standard"},
}
_S3_FS_RETRIES = 2  # s3fs's own retry loop on top of botocore's (its default of 5 multiplies the waits)
_DRIVERS = {"local": "fsspec", "s3": "s3fs"}  # the package each provider's filesystem comes from
_Keys = list[str]  # spelled once here: inside the class, ``list`` is the method


def _target(config: LocalConfig | S3Config) -> tuple[str, dict[str, Any]]:
    """The fsspec URL of a storage's root and the filesystem options to open it with."""
    if isinstance(config, LocalConfig):
        return config.root, {}
    client: dict[str, Any] = {"endpoint_url": config.endpoint_url, "region_name": config.region}
    options: dict[str, Any] = {
        "client_kwargs": {k: v for k, v in client.items() if v is not None},
        "config_kwargs": _S3_CLIENT_CONFIG,
        "use_listings_cache": False,  # another process may write: never answer from a stale listing
    }
    if config.access_key_id is not None:
        options.update(key=config.access_key_id, secret=config.secret_access_key)
    return f"s3://{config.bucket}/{config.prefix}".rstrip("/"), options


class FsspecStorage:
    """A storage over an fsspec filesystem: ``local`` (a folder) or ``s3`` (a bucket and prefix)."""

    def __init__(self, config: LocalConfig | S3Config, name: str, *, part_size: int = PART) -> None:
        """``part_size``: the bytes of each part of an S3 multipart upload (S3's minimum is 5 MiB);
        files up to that size go in one PUT."""
        self.config = config
        self.part_size = part_size
        self._name = name
        self._local = isinstance(config, LocalConfig)
        url, self._options = _target(config)
        s3 = config if isinstance(config, S3Config) else None
        self._where = Where(
            storage=name,
            provider=config.provider,
            root=url,
            bucket=s3.bucket if s3 else None,
            endpoint=s3.endpoint_url if s3 else None,
        )
        self._url = url
        #: The root as the filesystem names it: ``/data/x`` (local) or ``bucket/prefix`` (s3).
        self._root = url.split("://", 1)[1] if "://" in url else url

    def __repr__(self) -> str:
        return f"FsspecStorage(name={self._name!r}, provider={self.provider!r}, root={self._url!r})"

    @property
    def name(self) -> str:
        """The storage's name, used in every message about it."""
        return self._name

    @property
    def provider(self) -> str:
        """The provider: ``local``, ``s3``."""
        return self.config.provider

    @cached_property
    def _fs(self) -> AbstractFileSystem:
        from upath import UPath

        try:
            root = UPath(self._url, **self._options)
            fs = root.fs
        except ImportError as exc:
            raise StorageError(
                f"storage {self._name!r}: the {self.provider} provider needs {_DRIVERS[self.provider]}; "
                f"install it with: pip install 'synapse-plugin-sdk[{self.provider}]'"
            ) from exc
        if hasattr(fs, "retries"):
            fs.retries = _S3_FS_RETRIES
        return fs

    # -- confinement ---------------------------------------------------------------------------

    def resolve(self, key: str) -> str:
        """The provider path of ``key``; raise ``PathOutsideRoot`` if it is not confined to the root."""
        return self._resolve(normalize_key(self._name, key), key)

    def _resolve(self, clean: str, key: str) -> str:
        root = self._root
        path = posixpath.join(root, clean) if clean else root
        if self._local:
            real_root = os.path.realpath(root)
            real = os.path.realpath(path)
            if os.path.commonpath([real_root, real]) != real_root:
                raise PathOutsideRoot(
                    f"storage {self._name!r}: key {key!r} leads through a link to {real}, outside the root "
                    f"{root}; use a key inside the storage or replace the link"
                )
        return path

    # -- errors at the seam ----------------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str, key: str | None) -> Iterator[None]:
        try:
            yield
        except SynapseError:
            raise
        except Exception as exc:
            if self._local and key and isinstance(exc, FileNotFoundError) and not os.path.isdir(self._root):
                raise StorageError(
                    f"storage {self._name!r}: no file {key!r}: the root {self._root} does not exist "
                    "(nothing was written yet); check 'root'"
                ) from exc
            raise translate(exc, self._where, action, key) from exc

    def _info(self, path: str, key: str, action: str) -> dict[str, Any] | None:
        """The file's info, or None when nothing is stored there (a missing bucket still raises)."""
        with self._errors(action, key):
            try:
                return self._fs.info(path)
            except FileNotFoundError as exc:
                if is_missing_bucket(exc):
                    raise
                return None

    def _file_info(self, key: str, action: str) -> tuple[str, dict[str, Any]]:
        path = self.resolve(key)
        info = self._info(path, key, action)
        if info is None:
            with self._errors(action, key):
                raise FileNotFoundError(key)
        if info["type"] != "file":
            with self._errors(action, key):
                raise IsADirectoryError(key)
        return path, info

    # -- the interface ---------------------------------------------------------------------------

    def check(self) -> None:
        """Raise ``StorageError`` (one line: what and how to fix) unless the storage can be used now."""
        if self._local:
            self._ensure_local_root()
            if not os.access(self._root, os.W_OK | os.X_OK):
                with self._errors("write to", None):
                    raise PermissionError(self._root)
            return
        with self._errors("list", None):
            try:
                self._fs.ls(self._root)
            except FileNotFoundError as exc:  # an empty prefix is fine, a missing bucket is not
                if is_missing_bucket(exc):
                    raise

    def exists(self, key: str) -> bool:
        """True when a file is stored at ``key`` (a folder is not a file)."""
        info = self._info(self.resolve(key), key, "read")
        return info is not None and info["type"] == "file"

    def size(self, key: str) -> int:
        """The size in bytes of the file at ``key``."""
        return int(self._file_info(key, "read")[1]["size"])

    def open_read(self, key: str) -> BinaryIO:
        """A binary file object streaming the file at ``key`` (close it, or use ``with``)."""
        path, _ = self._file_info(key, "read")
        with self._errors("read", key):
            handle = self._fs.open(path, "rb") if self._local else self._fs.open(path, "rb", block_size=PART)
        return cast(BinaryIO, Reader(handle, self._errors, key))

    def read_bytes(self, key: str) -> bytes:
        """The whole content of the file at ``key``."""
        with self.open_read(key) as handle:
            return handle.read()

    def sha256(self, key: str) -> str:
        """The sha256 (hex) of the file at ``key``, streamed."""
        digest = hashlib.sha256()
        with self.open_read(key) as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def write(self, key: str, data: bytes | BinaryIO) -> StoredFile:
        """Store ``data`` at ``key``, all or nothing (local: temp file + rename; S3: one put or upload)."""
        path = self.resolve(key)
        if isinstance(data, bytes | bytearray | memoryview):
            view = memoryview(data)
            pieces = (bytes(view[start : start + CHUNK]) for start in range(0, len(view), CHUNK))
            return self._store(key, path, pieces, len(view))
        return self._store(key, path, chunks(data), None)

    def put_file(self, local_path: str | Path, key: str, *, sha256: str | None = None) -> StoredFile:
        """Stream a local file into ``key``; the result carries its size and sha256.

        With ``sha256``, bytes that hash otherwise (the file changed meanwhile) are never
        committed: ``FileChecksumMismatch``, and nothing is left at ``key``.
        """
        path = self.resolve(key)
        try:
            source = open(local_path, "rb")  # noqa: SIM115 - closed below, after the upload
        except OSError as exc:
            raise StorageError(
                f"storage {self._name!r}: cannot read the local file {local_path}: {exc.strerror}; "
                "check the path"
            ) from exc
        with source:
            size = os.fstat(source.fileno()).st_size
            return self._store(key, path, chunks(source), size, expected=sha256, source=str(local_path))

    def put_files(self, files: Sequence[PutRequest], *, workers: int = 8) -> list[StoredFile | SynapseError]:
        """Store many local files, each ``(local_path, key, sha256 or None)``; one outcome per file, in order.

        Each outcome is the ``StoredFile`` or the error for that file alone (``StorageError``,
        ``FileChecksumMismatch``, ``PathOutsideRoot``). Local: ``workers`` threads copy, each file
        read once while it is hashed. S3: files up to ``part_size`` are read and hashed, then
        sent concurrently on s3fs's event loop; larger ones stream as multipart uploads on
        ``workers`` threads.
        """
        from synapse_sdk.storage import _bulk

        if self._local:
            self._ensure_local_root()
            return _bulk.put_local(self, files, workers)
        return _bulk.put_s3(self, files, workers)

    def list(self, prefix: str = "", recursive: bool = True) -> Iterator[str]:
        """Keys of the files under the folder ``prefix``; not recursive: direct files and ``sub/`` folders.

        Streams one folder listing at a time, files sorted within each folder. Links that
        leave the root are skipped; links to folders are not followed.
        """
        base = normalize_key(self._name, prefix, allow_root=True)
        return self._walk(self._resolve(base, prefix), base, recursive)  # refusals raise here, not lazily

    def _walk(self, start: str, base: str, recursive: bool) -> Iterator[str]:
        folders = [(start, base)]
        while folders:
            folder, folder_key = folders.pop()
            files, subfolders = self._entries(folder, folder_key)
            yield from files
            if recursive:
                folders.extend((posixpath.join(self._root, sub), sub) for sub in reversed(subfolders))
            else:
                yield from (f"{sub}/" for sub in subfolders)

    def delete(self, key: str) -> None:
        """Remove the file at ``key``; a key with no file is not an error."""
        path = self.resolve(key)
        with self._errors("delete", key):
            try:
                self._fs.rm_file(path)
            except FileNotFoundError as exc:
                if is_missing_bucket(exc):
                    raise

    def url(self, key: str) -> str:
        """Where ``key`` lives for tools outside the SDK: a file path or an ``s3://`` URL."""
        path = self.resolve(key)
        return path if self._local else f"{self.provider}://{path}"

    # -- helpers -----------------------------------------------------------------------------------

    def _entries(self, folder: str, folder_key: str) -> tuple[_Keys, _Keys]:
        with self._errors("list", folder_key or None):
            try:
                entries = self._fs.ls(folder, detail=True)
            except (FileNotFoundError, NotADirectoryError) as exc:
                if is_missing_bucket(exc):
                    raise
                return [], []
        files: _Keys = []
        subfolders: _Keys = []
        for entry in entries:
            entry_path = str(entry["name"]).rstrip("/")
            leaf = entry_path.rsplit("/", 1)[-1]
            if entry_path == folder.rstrip("/") or not leaf or leaf.endswith(TEMP_SUFFIX):
                continue
            key = f"{folder_key}/{leaf}" if folder_key else leaf
            kind = entry["type"]
            if self._local and entry.get("islink"):
                kind = self._link_kind(entry_path)
            if kind == "file":
                files.append(key)
            elif kind == "directory":
                subfolders.append(key)
        return sorted(files), sorted(subfolders)

    def _link_kind(self, path: str) -> str:
        """A link inside a local root counts as a file only if it points to a file inside the root."""
        real_root = os.path.realpath(self._root)
        real = os.path.realpath(path)
        if os.path.commonpath([real_root, real]) != real_root or not os.path.isfile(real):
            return "skip"
        return "file"

    def _ensure_local_root(self) -> None:
        try:
            os.makedirs(self._root, exist_ok=True)
        except OSError as exc:
            raise root_error(exc, self._where) from exc
        if not os.path.isdir(self._root):
            raise root_error(NotADirectoryError(self._root), self._where)

    def _store(
        self,
        key: str,
        path: str,
        pieces: Iterable[bytes],
        size_hint: int | None,
        *,
        expected: str | None = None,
        source: str | None = None,
    ) -> StoredFile:
        if self._local:
            self._ensure_local_root()
        with self._errors("write", key):
            sink: Sink = (
                TempFileSink(self._fs, path)
                if self._local
                else ObjectSink(self._fs, path, size_hint, self.part_size)
            )
        digest = hashlib.sha256()
        size = 0
        try:
            for chunk in pieces:  # errors of the caller's source propagate as they are
                digest.update(chunk)
                size += len(chunk)
                with self._errors("write", key):
                    sink.write(chunk)
            if expected is not None and digest.hexdigest() != expected:
                raise checksum_mismatch(self._name, source or key, expected, digest.hexdigest())
            with self._errors("write", key):
                sink.commit()
        except BaseException:
            sink.discard()
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())
