"""Where an item's original file is read from: the platform (its data file), a local path or a URL.

Copies stream through a temporary file renamed into place, so a kill leaves no half file under
the final name, and are checked against the data file's sha256.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import StorageError

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient

#: Bytes read at a time.
CHUNK = 1 << 20


def copy_original(files: Mapping[str, Any], target: Path, client: BackendClient | None) -> str:
    """Copy the file ``files`` describes to ``target`` (whole or not at all); returns its sha256.

    A ``checksum`` in ``files`` must match the bytes copied, or the copy is refused.
    """
    expected = files.get("checksum")
    part = target.with_name(f".{target.name}.part")
    digest = hashlib.sha256()
    try:
        with part.open("wb") as out:
            for chunk in original_chunks(files, client):
                digest.update(chunk)
                out.write(chunk)
        checksum = digest.hexdigest()
        if expected and checksum != expected:
            raise StorageError(
                f"checksum mismatch: the bytes read have sha256 {checksum}, the data file says "
                f"{expected}; the stored file is damaged or was replaced"
            )
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return checksum


def original_chunks(files: Mapping[str, Any], client: BackendClient | None) -> Iterator[bytes]:
    """The bytes of an item's original file, a chunk at a time: its ``data_file`` through the
    platform, else a local ``path`` / ``file://`` URL, else an http(s) ``url``."""
    if files.get("data_file") is not None:
        if client is None:
            raise ValueError("the item's file is on the platform; the exporter has no client to read it")
        with client.open_data_file(int(files["data_file"])) as stream:
            while chunk := stream.read(CHUNK):
                yield chunk
        return
    source, url = files.get("path"), str(files.get("url") or "")
    if not source and url.startswith("file://"):
        source = url.removeprefix("file://")
    if source:
        with open(source, "rb") as stream:
            while chunk := stream.read(CHUNK):
                yield chunk
        return
    if url.startswith(("http://", "https://")):
        import httpx

        with httpx.stream("GET", url, timeout=60, follow_redirects=True) as response:
            response.raise_for_status()
            yield from response.iter_bytes(CHUNK)
        return
    raise ValueError("the item's files have no 'data_file', 'path' or 'url' to copy the original from")
