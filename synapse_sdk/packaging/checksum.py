"""sha256 of files and bytes, and the check that runs before any release code does."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from synapse_sdk.errors import ChecksumMismatch, ReleaseError

CHUNK = 1 << 20
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


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


def require_sha256(value: object, what: str) -> str:
    """``value`` if it is a sha256 as this SDK writes it (64 lowercase hex characters), else ``ReleaseError``.

    Checksums name files and folders (``archives/<sha>.tar.gz``, ``releases/<sha>/``): anything
    else (``../``, a slash, an empty string) is refused before it is used in a path.
    """
    if isinstance(value, str) and SHA256_HEX.fullmatch(value):
        return value
    shown = repr(value if not isinstance(value, str) or len(value) <= 80 else value[:80] + "…")
    raise ReleaseError(
        f"{what}: {shown} is not a sha256 checksum (64 lowercase hex characters); nothing was written; "
        "the release record is corrupt: publish the release again"
    )
