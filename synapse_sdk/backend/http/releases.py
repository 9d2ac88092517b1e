"""``HttpReleases``: the releases resource over HTTP (``/releases``): publish, list, get, download."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from synapse_sdk.backend.http.transport import HttpTransport
from synapse_sdk.backend.schemas import NewRelease, ReleaseRecord
from synapse_sdk.errors import ChecksumMismatch, PluginNotFound
from synapse_sdk.packaging.checksum import require_sha256, sha256_bytes

#: Seconds an archive upload or download may wait for the server (larger than a run request's).
TRANSFER_TIMEOUT = 60.0


class HttpReleases:
    """The :class:`~synapse_sdk.backend.protocol.ReleasesResource` of a remote backend."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def __repr__(self) -> str:
        return f"HttpReleases({self._http.host!r})"

    def add_release(self, new: NewRelease, archive: bytes) -> tuple[ReleaseRecord, bool]:
        """Upload a release; ``ReleaseError`` if the version exists with other content."""
        body = {"release": new.model_dump(mode="json"), "archive_b64": base64.b64encode(archive).decode()}
        data = self._http.call("POST", "/releases", json=body, timeout=self._transfer_timeout)
        return ReleaseRecord.model_validate(data["release"]), bool(data["created"])

    def find_release(self, code: str, version: str) -> ReleaseRecord | None:
        """The release ``code@version``, or None."""
        try:
            return self.get_release(code, version)
        except PluginNotFound:
            return None

    def get_release(self, code: str, version: str | None = None) -> ReleaseRecord:
        """The release ``code@version`` (the newest stable one when None)."""
        path = f"/releases/{code}/{version}" if version else f"/releases/{code}/latest"
        return ReleaseRecord.model_validate(self._http.call("GET", path))

    def list_releases(self, code: str | None = None) -> list[ReleaseRecord]:
        """Releases of ``code`` (every plugin when None), newest version first."""
        params = {"code": code} if code else None
        return [ReleaseRecord.model_validate(r) for r in self._http.call("GET", "/releases", params=params)]

    def fetch_archive(self, record: ReleaseRecord, cache_dir: Path) -> Path:
        """Download the archive into ``cache_dir`` as ``<checksum>.tar.gz``, verified before it is named so.

        The checksum the server sent must be 64 hex characters before it names a file
        (``ReleaseError``), and the downloaded bytes must hash to it (``ChecksumMismatch``):
        they go to a temporary file renamed into place only then, so a broken or altered
        download leaves no file under the final name.
        """
        checksum = require_sha256(record.checksum, what=f"{record.uri}: checksum sent by {self._http.host}")
        path = f"/releases/{record.code}/{record.version}/archive"
        data = self._http.request("GET", path, timeout=self._transfer_timeout).content
        actual = sha256_bytes(data)
        if actual != checksum:
            raise ChecksumMismatch(
                f"{record.uri} archive downloaded from {self._http.host}: sha256 is {actual} "
                f"({len(data)} bytes), but the release records {checksum}; nothing was saved; "
                "try again (a proxy may have altered it)"
            )
        cache_dir.mkdir(parents=True, exist_ok=True)
        final = cache_dir / f"{checksum}.tar.gz"
        tmp = cache_dir / f".tmp-{uuid.uuid4().hex}"
        with open(tmp, "xb") as f:
            f.write(data)
        tmp.replace(final)
        return final

    @property
    def _transfer_timeout(self) -> float:
        return max(self._http.timeout, TRANSFER_TIMEOUT)
