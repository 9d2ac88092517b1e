"""sha256 of files and bytes, and the check that runs before any release code does."""

from __future__ import annotations

import hashlib
from pathlib import Path

from synapse_sdk.errors import ChecksumMismatch

CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """The hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """The hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def verify_file(path: str | Path, expected: str, what: str = "archive") -> None:
    """Raise ``ChecksumMismatch`` unless ``path`` hashes to ``expected``."""
    actual = sha256_file(path)
    if actual != expected:
        raise ChecksumMismatch(
            f"{what} {path}: sha256 is {actual}, but the release records {expected}; "
            "the file was changed or corrupted after publishing, so nothing was run "
            "(publish the release again under a new version)"
        )
