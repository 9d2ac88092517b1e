"""How bytes move: chunked reads, writes that are all or nothing, and a read stream with translated errors."""

from __future__ import annotations

import io
import os
import posixpath
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

CHUNK = 1024 * 1024
#: S3 multipart part size (S3's minimum is 5 MiB; 8 MiB parts allow 80 GB in 10,000 parts).
PART = 8 * 1024 * 1024
_MAX_PARTS = 9_000
#: Suffix of in-progress local writes; listings never show such files.
TEMP_SUFFIX = ".synapse-tmp"


def chunks(stream: BinaryIO) -> Iterator[bytes]:
    """``stream``'s bytes, ``CHUNK`` at a time (memory stays flat whatever the size)."""
    while chunk := stream.read(CHUNK):
        yield chunk


class Sink:
    """Where a write goes until it is committed (visible at its key) or discarded (gone)."""

    def write(self, chunk: bytes) -> None:
        """Append ``chunk`` (not visible at the key yet)."""
        raise NotImplementedError

    def commit(self) -> None:
        """Make everything written visible at the key, at once."""
        raise NotImplementedError

    def discard(self) -> None:
        """Drop what was written; never raises."""
        raise NotImplementedError


class TempFileSink(Sink):
    """A temp file beside the target, renamed over it on commit: readers never see half a file."""

    def __init__(self, fs: AbstractFileSystem, path: str) -> None:
        parent, leaf = posixpath.split(path)
        fs.makedirs(parent, exist_ok=True)
        self._path = path
        self._temp = posixpath.join(parent, f".{leaf}.{uuid.uuid4().hex[:12]}{TEMP_SUFFIX}")
        self._fs = fs
        self._file = fs.open(self._temp, "wb")

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def commit(self) -> None:
        self._file.close()
        # os.replace, not fs.mv (shutil.move): atomic, and it never moves the file *into* a folder.
        os.replace(self._temp, self._path)

    def discard(self) -> None:
        with suppress(OSError):
            self._file.close()
        with suppress(OSError):
            os.unlink(self._temp)


class ObjectSink(Sink):
    """An object store write: one PUT for small data, else a multipart upload completed on commit.

    Nothing is visible at the key before commit; a discarded multipart upload is aborted.
    """

    def __init__(
        self, fs: AbstractFileSystem, path: str, size_hint: int | None, part_size: int = PART
    ) -> None:
        self._fs = fs
        self._path = path
        self._part = max(part_size, -(-(size_hint or 0) // _MAX_PARTS))
        self._buffer = bytearray()
        self._file: Any = None

    def write(self, chunk: bytes) -> None:
        if self._file is None:
            self._buffer += chunk
            if len(self._buffer) < self._part:
                return
            self._file = self._fs.open(self._path, "wb", autocommit=False, block_size=self._part)
            chunk, self._buffer = bytes(self._buffer), bytearray()
        self._file.write(chunk)

    def commit(self) -> None:
        if self._file is None:
            self._fs.pipe_file(self._path, bytes(self._buffer))
            return
        self._file.close()
        self._file.commit()

    def discard(self) -> None:
        if self._file is not None:
            with suppress(Exception):  # best effort: the upload is incomplete either way
                self._file.discard()


class Reader(io.RawIOBase):
    """A read-only stream over a provider's file whose errors are translated like every other."""

    def __init__(self, handle: Any, errors: Callable[[str, str], Any], key: str) -> None:
        super().__init__()
        self._handle = handle
        self._errors = errors
        self._key = key

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        with self._errors("read", self._key):
            return bytes(self._handle.read(-1 if size is None else size))

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        with self._errors("read", self._key):
            return int(self._handle.seek(offset, whence))

    def tell(self) -> int:
        return int(self._handle.tell())

    def close(self) -> None:
        if not self.closed:
            with suppress(Exception):
                self._handle.close()
        super().close()
