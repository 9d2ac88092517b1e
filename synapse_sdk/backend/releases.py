"""The release registry: the ``ReleaseRegistry`` protocol, its records, and ``get_registry(settings)``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from synapse_sdk.settings import Settings


class NewRelease(BaseModel):
    """What ``publish`` sends: a release's metadata (the archive bytes travel beside it)."""

    code: str
    version: str
    name: str
    category: str
    description: str = ""
    config: dict[str, Any]
    checksum: str
    source_checksum: str
    size: int
    lock: str = ""


class ReleaseRecord(NewRelease):
    """A stored release: where its archive is and when it was published."""

    archive: str
    created_at: float = Field(default=0.0)

    @property
    def uri(self) -> str:
        """``code@version``."""
        return f"{self.code}@{self.version}"


class ReleaseRegistry(Protocol):
    """Where releases are published to and fetched from (embedded SQLite store or HTTP backend)."""

    def add_release(self, new: NewRelease, archive: bytes) -> tuple[ReleaseRecord, bool]:
        """Store a release; returns ``(record, created)``, refusing a version with other content."""

    def find_release(self, code: str, version: str) -> ReleaseRecord | None:
        """The release ``code@version``, or None."""

    def get_release(self, code: str, version: str | None = None) -> ReleaseRecord:
        """The release ``code@version`` (the newest when ``version`` is None) or ``PluginNotFound``."""

    def list_releases(self, code: str | None = None) -> list[ReleaseRecord]:
        """Releases of ``code`` (every plugin when None), newest version first."""

    def fetch_archive(self, record: ReleaseRecord, cache_dir: Path) -> Path:
        """A local path to the release's archive bytes (not yet verified)."""


_registries: dict[str, ReleaseRegistry] = {}


def get_registry(settings: Settings | None = None) -> ReleaseRegistry:
    """The release registry of the configured backend: HTTP with ``SYNAPSE_HOST``, else embedded."""
    from synapse_sdk.settings import Settings

    settings = settings or Settings.from_env()
    if settings.host:
        key = f"{settings.host}|{settings.access_token}"
        if key not in _registries:
            from synapse_sdk.backend.releases_http import HttpReleaseRegistry

            _registries[key] = HttpReleaseRegistry(settings.host, settings.access_token)
        return _registries[key]
    key = str(settings.db_path)
    if key not in _registries:
        from synapse_sdk.backend.store.releases import ReleaseStore

        _registries[key] = ReleaseStore(settings.db_path, settings.home / "archives")
    return _registries[key]
