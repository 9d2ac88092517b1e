"""``HttpFiles``: the bytes of data files on a remote backend (``data_files/upload/``, ``.../download/``)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from synapse_sdk.backend.http.transport import HttpTransport
from synapse_sdk.errors import UsageError

#: Seconds an upload or a download may take.
TRANSFER_TIMEOUT = 300.0
#: Bytes copied at a time when a stream that cannot rewind is spooled to disk.
CHUNK = 1 << 20


class HttpFiles:
    """Uploads stream as the request body (the server hashes and stores them); downloads stream back.

    Neither holds a whole file in memory: an upload is read from its file a chunk at a time (a
    stream that cannot rewind for a retry is first copied to a temporary file), a download is a
    file read a chunk at a time as the caller reads it.
    """

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def upload(
        self,
        source: Path | BinaryIO,
        *,
        name: str,
        storage: int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store ``source`` in the server's storage ``storage`` (its default when None) as a data file."""
        import json

        params: dict[str, Any] = {"name": name, "meta": json.dumps(dict(meta or {}))}
        if storage is not None:
            params["storage"] = storage
        if isinstance(source, Path):
            if not source.is_file():
                raise UsageError(f"{source}: no such file; give the path of a file to upload")
            with open(source, "rb") as body:
                return self._send(body, params)
        if _can_rewind(source):
            return self._send(source, params)
        with tempfile.TemporaryFile(prefix="synapse-upload-") as spool:
            shutil.copyfileobj(source, spool, CHUNK)
            spool.seek(0)
            return self._send(spool, params)

    def _send(self, body: BinaryIO, params: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = self._http.call(
            "POST", "/data_files/upload/", params=params, content=body, timeout=TRANSFER_TIMEOUT
        )
        return record

    def open(self, data_file_id: int) -> BinaryIO:
        """The bytes of a data file, streamed (close it when done)."""
        return self._http.stream(
            "GET", f"/data_files/{int(data_file_id)}/download/", timeout=TRANSFER_TIMEOUT
        )


def _can_rewind(stream: BinaryIO) -> bool:
    """Whether ``stream`` can go back to where it stands (for a retry of the request)."""
    try:
        return bool(stream.seekable()) and stream.tell() >= 0
    except (AttributeError, OSError, ValueError):
        return False
