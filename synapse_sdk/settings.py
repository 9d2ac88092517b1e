"""Where the SDK keeps its state and which backend it talks to, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: The environment variables the settings are read from (``HOME`` for the default home).
_ENV_KEYS = ("SYNAPSE_HOME", "SYNAPSE_HOST", "SYNAPSE_ACCESS_TOKEN", "SYNAPSE_RAY_ADDRESS", "HOME")


@dataclass(frozen=True)
class Settings:
    """Resolved settings: ``SYNAPSE_HOME`` (default ``~/.synapse``) and the optional HTTP backend."""

    home: Path
    host: str | None = None
    access_token: str | None = None
    ray_address: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from the process environment (as it is now)."""
        return _from_env(tuple(os.environ.get(key) for key in _ENV_KEYS))

    @property
    def db_path(self) -> Path:
        """The embedded SQLite run store."""
        return self.home / "synapse.db"

    @property
    def jobs_dir(self) -> Path:
        """Per-job folders: the output of a background job's supervisor and worker processes."""
        return self.home / "jobs"

    @property
    def runs_dir(self) -> Path:
        """Per-run working folders (``runs/<id>/``): what each run's action writes."""
        return self.home / "runs"


@lru_cache(maxsize=16)
def _from_env(values: tuple[str | None, ...]) -> Settings:
    home, host, token, ray_address, _ = values
    return Settings(
        home=Path(home or Path.home() / ".synapse").expanduser(),
        host=host or None,
        access_token=token or None,
        ray_address=ray_address or None,
    )
