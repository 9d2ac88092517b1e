"""Where the SDK keeps its state and which backend it talks to, read once from the environment.

The home's folders (the database's, ``jobs/``, ``runs/``, ``releases/``) are made with
:func:`make_folder`: one that cannot be made (a file in the way, no permission, a full or
read-only disk) is a ``BackendError`` naming it and the fix, never a bare ``OSError``.
"""

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


def make_folder(path: Path) -> Path:
    """Make ``path`` (and its parents) if it is missing and return it.

    A folder that cannot be made is a ``BackendError`` naming it, why, and the fix.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from synapse_sdk.errors import BackendError

        raise BackendError(f"cannot make folder {path} ({os_reason(exc)}): {folder_problem(path)}") from exc
    return path


def os_reason(exc: OSError) -> str:
    """``PermissionError: Permission denied``: an ``OSError`` in a few words, without the path again."""
    return f"{type(exc).__name__}: {exc.strerror or exc}"


def folder_problem(path: Path) -> str:
    """Why files cannot be made in ``path`` (to be), and the fix: one clause for an error message.

    Looks at ``path`` and, when it does not exist, at the nearest of its parents that does.
    """
    there = next((p for p in (path, *path.parents) if os.path.lexists(p)), None)
    if there is None:
        return "set SYNAPSE_HOME to a writable folder"
    if not there.is_dir():
        what = "a file, not a folder" if there.is_file() else "not a folder"
        fix = f"move it away (mv {there} {there}.old), or set SYNAPSE_HOME to another folder"
        return f"{there} is {what}: {fix}"
    if not os.access(there, os.W_OK | os.X_OK):
        return (
            f"this user cannot write in {there}: check its permissions (ls -ld {there}), "
            "or set SYNAPSE_HOME to a writable folder"
        )
    return (
        f"check the disk and the permissions there (df {there}; ls -ld {there}), "
        "or set SYNAPSE_HOME to a writable folder"
    )
