"""The embedded backend: every resource over one SQLite ``Database`` under ``SYNAPSE_HOME``."""

from __future__ import annotations

from pathlib import Path

from synapse_sdk.backend.store.db import Database
from synapse_sdk.backend.store.releases import ReleaseStore
from synapse_sdk.backend.store.runs import RunStore

__all__ = [
    "Database",
    "EmbeddedBackend",
    "ReleaseStore",
    "RunStore",
]


class EmbeddedBackend:
    """The :class:`~synapse_sdk.backend.protocol.Backend` in one SQLite file shared by all processes.

    ``db_path`` is the database file (``Settings.db_path``: ``SYNAPSE_HOME/synapse.db``);
    release archives go to ``archives_dir`` (default: ``archives`` beside the database). Each
    resource is a store over the one :attr:`db`.
    """

    def __init__(self, db_path: str | Path, archives_dir: str | Path | None = None) -> None:
        self.db = Database(db_path)
        self.runs = RunStore(self.db)
        self.releases = ReleaseStore(self.db, archives_dir or self.db.path.parent / "archives")

    def __repr__(self) -> str:
        return f"EmbeddedBackend({str(self.db.path)!r})"

    def close(self) -> None:
        """Close this thread's SQLite connection (it reopens on next use)."""
        self.db.close()

    def __enter__(self) -> EmbeddedBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
