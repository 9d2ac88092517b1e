"""``PluginRelease``: a plugin at one version, with its checksum and runtime environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synapse_sdk.plugins.config import PluginConfig


@dataclass(frozen=True)
class PluginRelease:
    """A plugin's metadata at one version; ``checksum`` is the sha256 of its archive when published."""

    config: PluginConfig
    path: Path | None = None
    checksum: str | None = None
    archive: str | None = None

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

    def get_runtime_env(self) -> dict[str, Any]:
        """Requirements and package-manager options this release needs."""
        from synapse_sdk.plugins.categories.base import read_requirements

        return {
            "package_manager": self.config.package_manager,
            "package_manager_options": list(self.config.package_manager_options),
            "requirements": read_requirements(self.path),
        }
