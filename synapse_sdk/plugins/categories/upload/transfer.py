"""Files to the storage: sha256 on a bounded pool, those stored already found, the rest sent with retries.

Data files are stored by content, so a file whose checksum the storage holds is never sent again:
re-running a finished upload sends 0 bytes, and one killed half-way sends only what is missing.
A file is hashed once, here; the platform checks the bytes it stores hash to the same value, so a
file that changes after it was hashed fails (``FileChecksumMismatch``) instead of being stored under a
wrong checksum. Only transient errors (the platform or storage failing) are retried.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import BackendError, PathOutsideRoot, StorageError, SynapseError

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient

CHUNK: Final = 1 << 20
MB: Final = 1 << 20
#: Most files one hashing task reads.
SLICE: Final = 64
#: Seconds before the first retry; doubled for each next one, at most ``MAX_BACKOFF``.
BACKOFF: Final = 0.2
MAX_BACKOFF: Final = 5.0

Outcome = dict[str, Any] | BaseException


def hash_files(
    paths: Sequence[Path], pool: ThreadPoolExecutor, max_bytes: int | None = None, *, workers: int = 8
) -> list[tuple[str, int] | BaseException]:
    """``(sha256, size)`` of each path, in order, or the error that stopped it: the file is gone,
    unreadable, or larger than ``max_bytes`` (then it is not read). Paths go to the pool in slices,
    so thousands of small files cost a few tasks, not one each."""
    limit = max_bytes

    def one(path: Path) -> tuple[str, int] | BaseException:
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if limit is not None and size > limit:
                    return ValueError(
                        f"{path}: {size / MB:.1f} MB is more than max_file_size_mb {limit / MB:g}; "
                        "raise it or leave the file out"
                    )
                digest, read = hashlib.sha256(), 0
                while chunk := f.read(CHUNK):
                    digest.update(chunk)
                    read += len(chunk)
            return digest.hexdigest(), read
        except FileNotFoundError:
            return FileNotFoundError(f"{path}: no such file; it disappeared before it was uploaded")
        except OSError as exc:
            return OSError(f"{path}: cannot be read ({exc.strerror or exc}); check its permissions")

    def many(part: Sequence[Path]) -> list[tuple[str, int] | BaseException]:
        return [one(path) for path in part]

    step = max(1, min(SLICE, len(paths) // (4 * max(workers, 1)) or 1))
    parts = [paths[start : start + step] for start in range(0, len(paths), step)]
    return [found for part in pool.map(many, parts) for found in part]


def is_transient(error: BaseException) -> bool:
    """Whether trying again may help: the platform or the storage failed (not the file, not the params)."""
    if isinstance(error, PathOutsideRoot):
        return False
    if isinstance(error, BackendError | StorageError):
        return True
    return isinstance(error, ConnectionError | TimeoutError) or type(error).__module__.startswith("httpx")


def find_stored(client: BackendClient, checksums: Sequence[str], storage: int) -> dict[str, dict[str, Any]]:
    """The data files of ``storage`` holding these checksums, by checksum."""
    if not checksums:
        return {}
    return dict(client.find_data_files(list(checksums), storage=storage))


def send_files(
    client: BackendClient,
    entries: Sequence[dict[str, Any]],
    storage: int,
    *,
    workers: int,
    retries: int,
    log: Any = None,
) -> list[Outcome]:
    """Store each ``{"path", "name", "checksum"}`` entry; a record or the final error per entry, in order.

    Entries that fail with a transient error are sent again, up to ``retries`` times, waiting
    ``BACKOFF`` seconds (doubled each time) in between.
    """
    outcomes: list[Outcome] = [RuntimeError("not sent")] * len(entries)
    todo = list(range(len(entries)))
    for attempt in range(retries + 1):
        batch = [entries[i] for i in todo]
        try:
            results: Sequence[Outcome] = client.create_data_files(batch, storage=storage, workers=workers)
        except SynapseError as exc:  # the whole request failed: each entry has that error
            results = [exc] * len(batch)
        again = []
        for index, result in zip(todo, results, strict=True):
            outcomes[index] = result
            if isinstance(result, BaseException) and is_transient(result):
                again.append(index)
        if not again or attempt == retries:
            break
        wait = min(BACKOFF * 2**attempt, MAX_BACKOFF)
        if log is not None:
            log(f"{len(again)} file(s) failed ({outcomes[again[0]]}); trying again in {wait:g}s", "WARNING")
        time.sleep(wait)
        todo = again
    return outcomes
