"""The one interface callers use for any storage, and the key rules that confine it to its root.

A key is a relative POSIX path inside the storage (``images/cat.jpg``): every method takes
keys, never provider paths, and passes them through ``resolve`` — the single confinement
check — before touching anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from synapse_sdk.errors import FileChecksumMismatch, PathOutsideRoot, SynapseError

_FIX = "use a relative POSIX path inside the storage, like 'images/cat.jpg'"


@dataclass(frozen=True)
class StoredFile:
    """A file just written: its key, size in bytes and sha256 (hex), computed while streaming."""

    key: str
    size: int
    sha256: str


#: One file for ``Storage.put_files``: its local path, its key, and the sha256 it must have (or None).
PutRequest = tuple[str | Path, str, str | None]


def checksum_mismatch(storage: str, source: str, expected: str, actual: str) -> FileChecksumMismatch:
    """The error for a file whose bytes do not hash to the sha256 given for it (nothing was stored)."""
    return FileChecksumMismatch(
        f"storage {storage!r}: {source}: expected sha256 {expected}, but its bytes hash to {actual}: "
        "the file changed while it was uploaded; upload it again",
        path=source,
        expected=expected,
        actual=actual,
    )


@runtime_checkable
class Storage(Protocol):
    """Files under one root (a folder, a bucket prefix), addressed by relative keys."""

    @property
    def name(self) -> str:
        """The storage's name, used in every message about it."""
        ...

    @property
    def provider(self) -> str:
        """The provider: ``local``, ``s3``."""
        ...

    def resolve(self, key: str) -> str:
        """The provider path of ``key``; raise ``PathOutsideRoot`` if it is not confined to the root."""
        ...

    def check(self) -> None:
        """Raise ``StorageError`` (one line: what and how to fix) unless the storage can be used now."""
        ...

    def exists(self, key: str) -> bool:
        """True when a file is stored at ``key``."""
        ...

    def size(self, key: str) -> int:
        """The size in bytes of the file at ``key``."""
        ...

    def open_read(self, key: str) -> BinaryIO:
        """A binary file object streaming the file at ``key`` (close it, or use ``with``)."""
        ...

    def read_bytes(self, key: str) -> bytes:
        """The whole content of the file at ``key``."""
        ...

    def write(self, key: str, data: bytes | BinaryIO) -> StoredFile:
        """Store ``data`` (bytes or a binary stream, read in chunks) at ``key``, all or nothing."""
        ...

    def put_file(self, local_path: str | Path, key: str, *, sha256: str | None = None) -> StoredFile:
        """Stream a local file into ``key``; with ``sha256``, other bytes are refused (nothing stored)."""
        ...

    def put_files(self, files: Sequence[PutRequest], *, workers: int = 8) -> list[StoredFile | SynapseError]:
        """Store many ``(local_path, key, sha256 or None)`` at once; the outcome of each, in order."""
        ...

    def sha256(self, key: str) -> str:
        """The sha256 (hex) of the file at ``key``, streamed."""
        ...

    def list(self, prefix: str = "", recursive: bool = True) -> Iterator[str]:
        """Keys of the files under the folder ``prefix``; not recursive: direct files and ``sub/`` folders."""
        ...

    def delete(self, key: str) -> None:
        """Remove the file at ``key``; a key with no file is not an error."""
        ...

    def url(self, key: str) -> str:
        """Where ``key`` lives for tools outside the SDK: a file path or an ``s3://`` URL."""
        ...


def normalize_key(storage: str, key: str, *, allow_root: bool = False) -> str:
    """Check ``key`` lexically and return it normalized (``a/./b//c`` -> ``a/b/c``).

    Refuses (``PathOutsideRoot``) empty keys, absolute paths, ``..`` that climbs out of the
    root, backslashes and NUL bytes. ``allow_root`` lets an empty key mean the root itself
    (a listing prefix).
    """
    if not isinstance(key, str):
        raise PathOutsideRoot(f"storage {storage!r}: key {key!r} is not a string; {_FIX}")
    if "\0" in key:
        raise PathOutsideRoot(f"storage {storage!r}: key {key!r} contains a NUL byte; {_FIX}")
    if "\\" in key:
        raise PathOutsideRoot(f"storage {storage!r}: key {key!r} contains a backslash; {_FIX}")
    if key.startswith("/"):
        raise PathOutsideRoot(f"storage {storage!r}: key {key!r} is an absolute path; {_FIX}")
    parts: list[str] = []
    for part in key.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise PathOutsideRoot(
                    f"storage {storage!r}: key {key!r} climbs out of the root with '..'; {_FIX}"
                )
            parts.pop()
        else:
            parts.append(part)
    if not parts and not allow_root:
        raise PathOutsideRoot(f"storage {storage!r}: key {key!r} names no file; {_FIX}")
    return "/".join(parts)
