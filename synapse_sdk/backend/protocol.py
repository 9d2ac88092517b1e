"""The one backend interface: a ``Backend`` exposes one attribute per resource.

Two implementations satisfy it, checked by one contract suite (``tests/backend/test_contract.py``):
:class:`~synapse_sdk.backend.store.EmbeddedBackend` (SQLite under ``SYNAPSE_HOME``) and
:class:`~synapse_sdk.backend.http.HttpBackend` (``synapse backend serve`` over HTTP).
:func:`~synapse_sdk.backend.get_backend` picks one.

Adding a resource (storages, projects...) takes one step per layer: its records in
``schemas.py``, a ``...Resource`` protocol here and a read-only attribute on ``Backend``, a
store module in ``store/`` (over the embedded backend's one ``Database``), a client module in
``http/`` (over its one ``HttpTransport``), a router in ``server/routes/``, and its tests in
the contract suite.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from synapse_sdk.backend.schemas import (
    EventBatch,
    LogEntry,
    NewRelease,
    NewRun,
    ReleaseRecord,
    RunRecord,
    RunStatus,
)
from synapse_sdk.backend.spec import ResourceSpec
from synapse_sdk.errors import SynapseError


class RunsResource(Protocol):
    """Runs and the events they report; status changes are compare-and-set.

    Every method naming a run that writes (``transition``, ``update``, ``write_events``) raises
    ``RunNotFound`` when there is no such run; reads say "none" (``None``, ``0``, ``[]``) except
    ``get_run`` and ``get_logs``, which raise it too.
    """

    def create_run(self, new: NewRun, status: RunStatus = RunStatus.PENDING) -> RunRecord:
        """Create a run in ``status``; ``RunConflict`` if the id is taken."""
        ...

    def transition(self, run_id: str, expected: Iterable[RunStatus], new: RunStatus, **fields: Any) -> bool:
        """Move a run to ``new`` (setting ``fields``) only from one of ``expected``; True if it moved."""
        ...

    def update(self, run_id: str, **fields: Any) -> None:
        """Set bookkeeping fields (pid, heartbeat, stop request...) without touching the status."""
        ...

    def run_status(self, run_id: str) -> RunStatus | None:
        """The status of a run, or None if there is no such run."""
        ...

    def get_run(self, run_id: str) -> RunRecord:
        """One run with its latest progress and metrics; ``RunNotFound`` if there is none."""
        ...

    def list_runs(self, limit: int = 50, status: RunStatus | None = None) -> list[RunRecord]:
        """The newest runs first, optionally only those in ``status``."""
        ...

    def pid_started(self, run_id: str) -> str | None:
        """The start-time fingerprint recorded with the worker pid (guards against pid reuse)."""
        ...

    def write_events(self, run_id: str, batch: EventBatch) -> bool:
        """Store a batch (and its start mark) at once; True when a stop of the run was requested."""
        ...

    def get_logs(self, run_id: str, after: int = 0, limit: int | None = None) -> list[LogEntry]:
        """Log entries with a sequence number above ``after``, oldest first."""
        ...

    def count_logs(self, run_id: str) -> int:
        """How many log entries a run has."""
        ...

    def metric_history(self, run_id: str, category: str | None = None) -> list[dict[str, Any]]:
        """Every ``set_metrics`` call of a run, oldest first."""
        ...


class ReleasesResource(Protocol):
    """Published plugin releases: immutable ``code@version`` records and their archives."""

    def add_release(self, new: NewRelease, archive: bytes) -> tuple[ReleaseRecord, bool]:
        """Store a release; returns ``(record, created)``, refusing a version with other content."""
        ...

    def find_release(self, code: str, version: str) -> ReleaseRecord | None:
        """The release ``code@version``, or None."""
        ...

    def get_release(self, code: str, version: str | None = None) -> ReleaseRecord:
        """The release ``code@version`` (the newest stable one when None) or ``PluginNotFound``."""
        ...

    def list_releases(self, code: str | None = None) -> list[ReleaseRecord]:
        """Releases of ``code`` (every plugin when None), by code, newest version first."""
        ...

    def fetch_archive(self, record: ReleaseRecord, cache_dir: Path) -> Path:
        """A local path to the release's archive bytes (the caller verifies the checksum)."""
        ...


class Resource(Protocol):
    """One platform resource (storages, projects, tasks...), as its :class:`ResourceSpec` describes it.

    Records are dicts, as the reference platform's JSON. Writes validate first and store all or
    nothing; ``ResourceNotFound`` names a missing id, ``ResourceConflict`` a duplicate or a frozen
    record, ``UsageError`` the item and field that failed validation or a filter that does not exist.
    """

    spec: ResourceSpec

    def create(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Validate and store one record; returns it with its ``id``."""
        ...

    def create_many(
        self, items: Sequence[Mapping[str, Any]], where: str | None = None
    ) -> list[dict[str, Any]]:
        """Validate and store many records in one transaction; returns them with their ids."""
        ...

    def get(self, record_id: int) -> dict[str, Any]:
        """One record; ``ResourceNotFound`` if there is none."""
        ...

    def find(self, record_id: int) -> dict[str, Any] | None:
        """One record, or None."""
        ...

    def update(self, record_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Change updatable fields of one record; returns it as stored."""
        ...

    def delete(self, record_id: int) -> None:
        """Remove one record."""
        ...

    def count(self, filters: Mapping[str, Any] | None = None) -> int:
        """How many records match ``filters``."""
        ...

    def page(
        self, filters: Mapping[str, Any] | None = None, *, after: int = 0, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` records by id: after id ``after`` (cursor mode), skipping ``offset`` (pages)."""
        ...

    def iterate(
        self, filters: Mapping[str, Any] | None = None, *, page_size: int = 1000
    ) -> Iterator[dict[str, Any]]:
        """Every record matching ``filters``, by id, streamed a page at a time."""
        ...


class FilesResource(Protocol):
    """The bytes of data files: stored by content in a storage, read back streamed."""

    def upload(
        self,
        source: Path | BinaryIO,
        *,
        name: str,
        storage: int | None = None,
        meta: Mapping[str, Any] | None = None,
        checksum: str | None = None,
    ) -> dict[str, Any]:
        """Store ``source`` as a data file in ``storage`` (the default one when None); the same bytes
        give back the same data file; bytes that do not hash to ``checksum`` raise
        ``FileChecksumMismatch`` and nothing is stored."""
        ...

    def upload_many(
        self, files: Sequence[Mapping[str, Any]], storage: int | None = None, *, workers: int = 8
    ) -> list[dict[str, Any] | SynapseError]:
        """Store many local files (``{"path", "name", "checksum", "meta"}`` each), ``workers`` at a
        time; one outcome per entry, in order: its data file, or the error for that file alone."""
        ...

    def open(self, data_file_id: int) -> BinaryIO:
        """The bytes of a data file."""
        ...


class Backend(Protocol):
    """The platform plugins report to: one attribute per resource, and ``close()``.

    The platform's resources (``storages``, ``data_collections``, ``data_files``, ``data_units``,
    ``projects``, ``tasks``, ``assignments``, ``ground_truth_datasets``,
    ``ground_truth_dataset_versions``, ``ground_truth_events``, ``models``) are one
    :class:`Resource` each, found with :meth:`resource`; files go through :meth:`storage`.
    """

    @property
    def runs(self) -> RunsResource:
        """Runs and their events."""
        ...

    @property
    def releases(self) -> ReleasesResource:
        """Published plugin releases."""
        ...

    @property
    def files(self) -> FilesResource:
        """The bytes of data files."""
        ...

    def resource(self, name: str) -> Resource:
        """The platform resource ``name`` (a key of ``synapse_sdk.backend.resources.RESOURCES``)."""
        ...

    def close(self) -> None:
        """Release connections (this thread's SQLite connection, or the HTTP connection pool)."""
        ...
