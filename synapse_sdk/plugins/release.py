"""``PluginRelease``: a plugin at one version, with its checksum, archive and runtime environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.plugins.config import PluginConfig

if TYPE_CHECKING:
    from synapse_sdk.backend.schemas import ReleaseRecord
    from synapse_sdk.runtime_env.spec import RuntimeEnvSpec


@dataclass(frozen=True)
class PluginRelease:
    """A plugin's metadata at one version; ``checksum`` is the sha256 of its archive when published.

    ``path`` is the plugin folder (for a published release: the verified, extracted archive) and
    ``archive`` where the archive is stored.
    """

    config: PluginConfig
    path: Path | None = None
    checksum: str | None = None
    archive: str | None = None
    size: int | None = None
    created_at: float | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> PluginRelease:
        """The (unpublished) release a plugin folder describes."""
        return cls(config=PluginConfig.load(path), path=Path(path).resolve())

    @classmethod
    def from_record(cls, record: ReleaseRecord, path: Path | None = None) -> PluginRelease:
        """A published release from its registry record (``path``: where it is extracted, if it is)."""
        return cls(
            config=PluginConfig.from_dict(record.config, source=f"{record.uri} config"),
            path=path,
            checksum=record.checksum,
            archive=record.archive,
            size=record.size,
            created_at=record.created_at,
        )

    @classmethod
    def fetch(cls, plugin: str, settings: Any = None) -> PluginRelease:
        """Resolve ``code@version`` (``code``: the newest) in the configured registry; verified, extracted."""
        from synapse_sdk.backend import get_backend
        from synapse_sdk.packaging.publish import install_release
        from synapse_sdk.settings import Settings

        settings = settings or Settings.from_env()
        registry = get_backend(settings).releases
        code, _, version = plugin.partition("@")
        record = registry.get_release(code, version or None)
        return cls.from_record(record, install_release(record, registry, settings.home))

    @property
    def code(self) -> str:
        """The plugin's code."""
        return self.config.code

    @property
    def version(self) -> str:
        """The plugin's semantic version."""
        return self.config.version

    @property
    def uri(self) -> str:
        """``code@version``."""
        return self.config.uri

    @property
    def category(self) -> str:
        """The plugin's category."""
        return self.config.category.value

    @property
    def runtime_env(self) -> RuntimeEnvSpec:
        """What the release's environment needs: locked requirements, package manager and options."""
        from synapse_sdk.runtime_env.spec import RuntimeEnvSpec

        if self.path is None:
            options = tuple(self.config.package_manager_options)
            return RuntimeEnvSpec(package_manager=self.config.package_manager, options=options)
        return RuntimeEnvSpec.from_plugin(self.path, self.config)

    def get_runtime_env(self) -> dict[str, Any]:
        """Requirements (the lock when published) and package-manager options this release needs."""
        return self.runtime_env.to_dict()
