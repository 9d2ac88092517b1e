"""``HttpFiles``: the bytes of data files on a remote backend (``data_files/upload/``, ``.../download/``)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from synapse_sdk.backend.http.transport import HttpTransport
from synapse_sdk.errors import UsageError

#: Seconds an upload or a download may take.
TRANSFER_TIMEOUT = 300.0


class HttpFiles:
    """Uploads go as the request body (the server hashes and stores them); downloads come back whole."""

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

        if isinstance(source, Path):
            if not source.is_file():
                raise UsageError(f"{source}: no such file; give the path of a file to upload")
            data = source.read_bytes()
        else:
            data = source.read()
        params: dict[str, Any] = {"name": name, "meta": json.dumps(dict(meta or {}))}
        if storage is not None:
            params["storage"] = storage
        record: dict[str, Any] = self._http.call(
            "POST", "/data_files/upload/", params=params, content=data, timeout=TRANSFER_TIMEOUT
        )
        return record

    def open(self, data_file_id: int) -> BinaryIO:
        """The bytes of a data file."""
        response = self._http.request(
            "GET", f"/data_files/{int(data_file_id)}/download/", timeout=TRANSFER_TIMEOUT
        )
        return io.BytesIO(response.content)
