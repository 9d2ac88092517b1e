"""``HttpFiles``: the bytes of data files on a remote backend (``data_files/upload/``, ``.../download/``)."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from synapse_sdk.backend.http.transport import HttpTransport
from synapse_sdk.errors import SynapseError, UsageError
from synapse_sdk.packaging.checksum import sha256_file

#: Seconds an upload or a download may take.
TRANSFER_TIMEOUT = 300.0
#: Bytes copied at a time when a stream that cannot rewind is spooled to disk.
CHUNK = 1 << 20
#: Files up to this size are read once into memory, hashed and sent from there.
SMALL = 1 << 20


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
        checksum: str | None = None,
    ) -> dict[str, Any]:
        """Store ``source`` in the server's storage ``storage`` (its default when None) as a data file.

        The server hashes the bytes as they arrive and refuses (``FileChecksumMismatch``) any
        that do not hash to ``checksum``. A file without one is hashed here first (a small one
        in the same read that sends it), so a file that changes while it is sent is caught too.
        """
        import json

        params: dict[str, Any] = {"name": name, "meta": json.dumps(dict(meta or {}))}
        if storage is not None:
            params["storage"] = storage
        if isinstance(source, Path):
            try:
                size = source.stat().st_size if source.is_file() else -1
            except OSError:
                size = -1
            if size < 0:
                raise UsageError(f"{source}: no such file; give the path of a file to upload")
            try:
                if checksum is None and size <= SMALL:
                    data = source.read_bytes()
                    params["checksum"] = hashlib.sha256(data).hexdigest()
                    return self._send(data, params)
                params["checksum"] = checksum or sha256_file(source)
                with open(source, "rb") as body:
                    return self._send(body, params)
            except OSError as exc:
                raise UsageError(f"{source}: cannot read it ({exc.strerror or exc}); check the file") from exc
        if checksum is not None:
            params["checksum"] = checksum
        if _can_rewind(source):
            return self._send(source, params)
        with tempfile.TemporaryFile(prefix="synapse-upload-") as spool:
            shutil.copyfileobj(source, spool, CHUNK)
            spool.seek(0)
            return self._send(spool, params)

    def upload_many(
        self, files: Sequence[Mapping[str, Any]], storage: int | None = None, *, workers: int = 8
    ) -> list[dict[str, Any] | SynapseError]:
        """Upload many local files, one request each, ``workers`` at a time; one outcome per entry, in order.

        Entries are ``{"path", "name", "checksum", "meta"}`` as for the embedded store; an outcome
        is the data file's record or the error for that file alone.
        """

        def one(entry: Mapping[str, Any]) -> dict[str, Any] | SynapseError:
            path = Path(entry["path"])
            try:
                return self.upload(
                    path,
                    name=str(entry.get("name") or path.name),
                    storage=storage,
                    meta=entry.get("meta") or {},
                    checksum=entry.get("checksum"),
                )
            except SynapseError as exc:
                return exc

        if workers <= 1 or len(files) < 2:
            return [one(entry) for entry in files]
        # httpx.Client is thread-safe: the workers share its connection pool.
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="synapse-upload") as pool:
            return list(pool.map(one, files))

    def _send(self, body: bytes | BinaryIO, params: dict[str, Any]) -> dict[str, Any]:
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
