"""``HttpReleaseRegistry``: the release registry of ``synapse backend serve``, over HTTP with a token."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

from synapse_sdk.backend.releases import NewRelease, ReleaseRecord
from synapse_sdk.errors import (
    BackendError,
    ChecksumMismatch,
    PluginNotFound,
    ReleaseError,
    SynapseError,
    UsageError,
)

_ERRORS: dict[str, type[SynapseError]] = {
    "PluginNotFound": PluginNotFound,
    "ReleaseError": ReleaseError,
    "ChecksumMismatch": ChecksumMismatch,
    "UsageError": UsageError,
}


class HttpReleaseRegistry:
    """Publishes to and fetches from a remote backend's ``/releases`` API."""

    def __init__(self, host: str, token: str | None, *, timeout: float = 60.0, transport: Any = None) -> None:
        import httpx

        if not token:
            raise UsageError(
                f"SYNAPSE_HOST is {host!r} but SYNAPSE_ACCESS_TOKEN is not set; "
                "set it to the token the backend server was started with"
            )
        self.host = host.rstrip("/")
        self._client = httpx.Client(
            base_url=self.host,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> HttpReleaseRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise BackendError(
                f"backend {self.host} unreachable: {type(exc).__name__}: {exc}; is 'synapse backend serve' "
                "running there (check SYNAPSE_HOST)?"
            ) from exc
        if response.is_success:
            return response
        if response.status_code == 401:
            raise BackendError(
                f"backend {self.host} rejected the access token (401); set SYNAPSE_ACCESS_TOKEN "
                "to the token the server was started with"
            )
        try:
            body = response.json()
        except ValueError:
            body = {}
        error = _ERRORS.get(body.get("error", "") if isinstance(body, dict) else "", BackendError)
        detail = body.get("detail") if isinstance(body, dict) else None
        raise error(str(detail or f"{method} {path} failed with {response.status_code}: {response.text}"))

    def add_release(self, new: NewRelease, archive: bytes) -> tuple[ReleaseRecord, bool]:
        """Upload a release; ``ReleaseError`` if the version exists with other content."""
        body = {"release": new.model_dump(mode="json"), "archive_b64": base64.b64encode(archive).decode()}
        data = self._call("POST", "/releases", json=body).json()
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
        return ReleaseRecord.model_validate(self._call("GET", path).json())

    def list_releases(self, code: str | None = None) -> list[ReleaseRecord]:
        """Releases of ``code`` (every plugin when None), newest version first."""
        params = {"code": code} if code else {}
        return [ReleaseRecord.model_validate(r) for r in self._call("GET", "/releases", params=params).json()]

    def fetch_archive(self, record: ReleaseRecord, cache_dir: Path) -> Path:
        """Download the archive into ``cache_dir`` (named by checksum; verified by the caller)."""
        cache_dir.mkdir(parents=True, exist_ok=True)
        final = cache_dir / f"{record.checksum}.tar.gz"
        response = self._call("GET", f"/releases/{record.code}/{record.version}/archive")
        tmp = cache_dir / f".tmp-{uuid.uuid4().hex}"
        tmp.write_bytes(response.content)
        tmp.replace(final)
        return final
