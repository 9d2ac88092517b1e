"""``put_files`` for many files at once: a thread pool of direct copies (local), concurrent PUTs (S3).

Every file is read once, hashed as it is read, and verified against its sha256 (when given)
before it becomes visible at its key; a file that fails is that file's outcome, never the
batch's. Confinement is checked once per folder, not once per file.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import StorageError, SynapseError
from synapse_sdk.storage._errors import translate
from synapse_sdk.storage._streams import CHUNK, TEMP_SUFFIX
from synapse_sdk.storage.base import PutRequest, StoredFile, checksum_mismatch, normalize_key

if TYPE_CHECKING:
    from synapse_sdk.storage.fsspec_storage import FsspecStorage

Outcome = StoredFile | SynapseError
#: Small files read into memory per S3 round of concurrent PUTs, at most (bytes, files).
_ROUND_BYTES, _ROUND_FILES = 64 << 20, 256
#: Concurrent PUTs of small files on s3fs's event loop.
_S3_CONCURRENCY = 32


def put_local(storage: FsspecStorage, files: Sequence[PutRequest], workers: int) -> list[Outcome]:
    """Copy each file into the local root on ``workers`` threads: temp file, hash check, rename."""
    targets = _targets(storage, files)
    made: set[str] = set()

    def one(index: int) -> Outcome:
        target = targets[index]
        if isinstance(target, SynapseError):
            return target
        source, key, expected = files[index]
        try:
            return _copy(storage, str(source), key, target, expected, made)
        except SynapseError as exc:
            return exc

    # Copies of small files are mostly Python work under the GIL: threads past the cores only
    # contend for it (measured: 8 threads are ~1.5x slower than 1 on tmpfs for 4 KiB files).
    workers = min(workers, os.cpu_count() or 1)
    if workers <= 1 or len(files) < 2:
        return [one(i) for i in range(len(files))]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="synapse-put") as pool:
        return list(pool.map(one, range(len(files)), chunksize=max(1, min(64, len(files) // workers // 4))))


def _copy(
    storage: FsspecStorage, source: str, key: str, target: str, expected: str | None, made: set[str]
) -> StoredFile:
    parent, leaf = posixpath.split(target)
    if parent not in made:
        with storage._errors("write", key):
            os.makedirs(parent, exist_ok=True)
        made.add(parent)
    try:
        src = os.open(source, os.O_RDONLY)
    except OSError as exc:
        raise _unreadable(storage, source, exc) from exc
    temp = f"{parent}/.{leaf}.{secrets.token_hex(6)}{TEMP_SUFFIX}"
    digest, size = hashlib.sha256(), 0
    out = -1
    try:
        out = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        while True:
            try:
                chunk = os.read(src, CHUNK)
            except OSError as exc:
                raise _unreadable(storage, source, exc) from exc
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            view = memoryview(chunk)
            while view:
                view = view[os.write(out, view) :]
        os.close(out)
        out = -1
        actual = digest.hexdigest()
        if expected is not None and actual != expected:
            raise checksum_mismatch(storage.name, source, expected, actual)
        os.replace(temp, target)
    except BaseException as exc:
        if out >= 0:
            os.close(out)
        with suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, Exception) and not isinstance(exc, SynapseError):
            raise translate(exc, storage._where, "write", key) from exc
        raise
    finally:
        os.close(src)
    return StoredFile(key=key, size=size, sha256=actual)


def put_s3(storage: FsspecStorage, files: Sequence[PutRequest], workers: int) -> list[Outcome]:
    """Small files: read, hash, PUT concurrently; large ones: multipart on ``workers`` threads."""
    outcomes: list[Outcome | None] = [None] * len(files)
    targets = _targets(storage, files)
    large: list[int] = []
    round_: list[tuple[int, str, bytes, str]] = []  # (index, path, data, sha256)
    held = 0
    for index, (source, _, expected) in enumerate(files):
        target = targets[index]
        if isinstance(target, SynapseError):
            outcomes[index] = target
            continue
        try:
            size = os.stat(source).st_size
            if size > storage.part_size:
                large.append(index)
                continue
            with open(source, "rb") as src:
                data = src.read()
        except OSError as exc:
            outcomes[index] = _unreadable(storage, str(source), exc)
            continue
        actual = hashlib.sha256(data).hexdigest()
        if expected is not None and actual != expected:
            outcomes[index] = checksum_mismatch(storage.name, str(source), expected, actual)
            continue
        round_.append((index, target, data, actual))
        held += len(data)
        if held >= _ROUND_BYTES or len(round_) >= _ROUND_FILES:
            _send_round(storage, files, round_, outcomes)
            round_, held = [], 0
    if round_:
        _send_round(storage, files, round_, outcomes)

    def streamed(index: int) -> Outcome:
        source, key, expected = files[index]
        try:
            return storage.put_file(source, key, sha256=expected)
        except SynapseError as exc:
            return exc

    if large:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="synapse-put") as pool:
            for index, outcome in zip(large, pool.map(streamed, large), strict=True):
                outcomes[index] = outcome
    return [o if o is not None else StorageError("internal: no outcome") for o in outcomes]


def _send_round(
    storage: FsspecStorage,
    files: Sequence[PutRequest],
    round_: list[tuple[int, str, bytes, str]],
    outcomes: list[Outcome | None],
) -> None:
    """PUT one round of small files at once (``_S3_CONCURRENCY`` in flight) on s3fs's event loop."""
    import asyncio

    from fsspec.asyn import sync

    fs: Any = storage._fs
    limit = asyncio.Semaphore(_S3_CONCURRENCY)

    async def put(path: str, data: bytes) -> None:
        async with limit:
            await fs._pipe_file(path, data)

    async def every() -> list[Any]:
        return await asyncio.gather(*(put(path, data) for _, path, data, _ in round_), return_exceptions=True)

    try:
        results = sync(fs.loop, every)
    except Exception as exc:  # noqa: BLE001 - the loop itself failed: every file of the round failed
        results = [exc] * len(round_)
    for (index, _, data, sha), result in zip(round_, results, strict=True):
        key = files[index][1]
        if isinstance(result, BaseException):
            outcomes[index] = translate(result, storage._where, "write", key)
        else:
            outcomes[index] = StoredFile(key=key, size=len(data), sha256=sha)


def _targets(storage: FsspecStorage, files: Sequence[PutRequest]) -> list[str | SynapseError]:
    """Each key's provider path (or why it is refused), the root confinement checked once per folder."""
    folders: dict[str, str | SynapseError] = {}
    found: list[str | SynapseError] = []
    for _, key, _ in files:
        try:
            clean = normalize_key(storage.name, key)
        except SynapseError as exc:
            found.append(exc)
            continue
        folder, leaf = posixpath.split(clean)
        resolved = folders.get(folder)
        if resolved is None:
            try:
                resolved = storage._resolve(folder, key) if folder else storage._resolve("", key)
            except SynapseError as exc:
                resolved = exc
            folders[folder] = resolved
        found.append(resolved if isinstance(resolved, SynapseError) else posixpath.join(resolved, leaf))
    return found


def _unreadable(storage: FsspecStorage, source: str, exc: OSError) -> StorageError:
    return StorageError(
        f"storage {storage.name!r}: cannot read the local file {source}: {exc.strerror or exc}; "
        "check the path"
    )
