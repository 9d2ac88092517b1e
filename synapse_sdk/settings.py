"""Where the SDK keeps its state and which backend it talks to, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Resolved settings: ``SYNAPSE_HOME`` (default ``~/.synapse``) and the optional HTTP backend."""

    home: Path
    host: str | None = None
    access_token: str | None = None
    ray_address: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from the process environment."""
        home = Path(os.environ.get("SYNAPSE_HOME") or Path.home() / ".synapse").expanduser()
        return cls(
            home=home,
            host=os.environ.get("SYNAPSE_HOST") or None,
            access_token=os.environ.get("SYNAPSE_ACCESS_TOKEN") or None,
            ray_address=os.environ.get("SYNAPSE_RAY_ADDRESS") or None,
        )

    @property
    def db_path(self) -> Path:
        """The embedded SQLite run store."""
        return self.home / "synapse.db"

    @property
    def jobs_dir(self) -> Path:
        """Per-job folders: worker output and invocation files."""
        return self.home / "jobs"
