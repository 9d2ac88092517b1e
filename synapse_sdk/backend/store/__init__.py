"""The embedded backend: every resource over one SQLite ``Database`` under ``SYNAPSE_HOME``."""

from __future__ import annotations

import contextlib
from pathlib import Path

from synapse_sdk.backend.resources import RESOURCES
from synapse_sdk.backend.store.db import Database
from synapse_sdk.backend.store.files import EmbeddedFiles
from synapse_sdk.backend.store.releases import ReleaseStore
from synapse_sdk.backend.store.resources import SqlResource
from synapse_sdk.backend.store.runs import RunStore

__all__ = [
    "Database",
    "EmbeddedBackend",
    "EmbeddedFiles",
    "ReleaseStore",
    "RunStore",
    "SqlResource",
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
        self._resources = {name: SqlResource(self.db, spec) for name, spec in RESOURCES.items()}
        self.files = EmbeddedFiles(self._resources["storages"], self._resources["data_files"])
        self._ensure_default_storage()

    def _ensure_default_storage(self) -> None:
        """A fresh home has one storage: local, under ``SYNAPSE_HOME/storages/default``."""
        if self.db.query_one("SELECT 1 FROM storages LIMIT 1") is None:
            from synapse_sdk.errors import ResourceConflict

            root = self.db.path.parent / "storages" / "default"
            with contextlib.suppress(ResourceConflict):  # another process made it meanwhile
                self._resources["storages"].insert_valid(
                    [
                        {
                            "name": "default",
                            "provider": "local",
                            "configuration": {"root": str(root)},
                            "is_default": True,
                        }
                    ],
                    "storage",
                )

    def resource(self, name: str) -> SqlResource:
        """The platform resource ``name`` (storages, projects, tasks...)."""
        return self._resources[name]

    @property
    def home(self) -> Path:
        """The folder the database lives in (``SYNAPSE_HOME``)."""
        return self.db.path.parent

    def __repr__(self) -> str:
        return f"EmbeddedBackend({str(self.db.path)!r})"

    def close(self) -> None:
        """Close this thread's SQLite connection (it reopens on next use)."""
        self.db.close()

    def __enter__(self) -> EmbeddedBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
