"""The platform client plugin code calls: the reference platform's ``BackendClient`` method names.

``BackendClient(base_url, access_token=...)`` talks to ``synapse backend serve`` over HTTP;
``get_backend_client()`` gives the embedded platform (SQLite + local storage under
``SYNAPSE_HOME``) unless ``SYNAPSE_HOST`` is set. Both have the same methods and return the same
shapes (plain dicts; ``list_*(params, list_all=True)`` gives ``(generator, count)`` and streams a
page at a time), because both are this one class over one ``Backend``. An action reaches it as
``self.client``.

Example::

    client = get_backend_client()
    project = client.create_project({"title": "cars", "data_collection": collection["id"]})
    tasks, count = client.list_tasks({"project": project["id"]}, list_all=True)
    for task in tasks:
        ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import Backend, Resource
    from synapse_sdk.errors import SynapseError
    from synapse_sdk.settings import Settings

__all__ = [
    "BackendClient",
    "get_backend_client",
]

Record = dict[str, Any]
Params = Mapping[str, Any] | None
#: Checksums per query of :meth:`BackendClient.find_data_files` (64 hex digits + ``&checksum=`` each).
FIND_CHUNK = 50


class BackendClient:
    """The platform's resources under the reference client's method names (over HTTP or embedded)."""

    def __init__(
        self,
        base_url: str | None = None,
        access_token: str | None = None,
        *,
        backend: Backend | None = None,
        timeout: float = 10.0,
    ) -> None:
        """``base_url`` and ``access_token`` name a ``synapse backend serve``; or pass a ``backend``."""
        if backend is None:
            if not base_url:
                from synapse_sdk.errors import UsageError

                raise UsageError(
                    "BackendClient(base_url, access_token=...): give the server's URL, like "
                    "'http://127.0.0.1:8100', or use get_backend_client() for the embedded platform"
                )
            from synapse_sdk.backend.http import HttpBackend

            backend = HttpBackend(base_url, access_token, timeout=timeout)
        self.backend = backend

    def __repr__(self) -> str:
        return f"BackendClient({self.backend!r})"

    def _r(self, name: str) -> Resource:
        return self.backend.resource(name)

    def _list(self, name: str, params: Params, list_all: bool) -> Any:
        """A page ``{"count", "next", "previous", "results"}``, or with ``list_all`` ``(generator, count)``.

        ``page`` (from 1) and ``page_size`` (1 to 1000, default 100) choose the page; ``next`` and
        ``previous`` are page numbers, or None. With ``list_all`` the generator fetches a page at a
        time as it is read, so a listing of any length streams in constant memory.
        """
        resource = self._r(name)
        filters = dict(params or {})
        size = _whole(filters.pop("page_size", 100), "params.page_size", 1, 1000)
        page = _whole(filters.pop("page", 1), "params.page", 1, 10**9)
        if list_all:
            count = resource.count(filters)
            return resource.iterate(filters), count
        results = resource.page(filters, limit=size, offset=(page - 1) * size)
        count = resource.count(filters)
        more = (page - 1) * size + len(results) < count
        return {
            "count": count,
            "next": page + 1 if more else None,
            "previous": page - 1 or None,
            "results": results,
        }

    # -- storages -------------------------------------------------------------------------------

    def create_storage(self, data: Mapping[str, Any]) -> Record:
        """A storage: ``{"name", "provider": "local" | "s3", "configuration": {...}}``."""
        return _public_storage(self._r("storages").create(data))

    def get_storage(self, storage_id: int) -> Record:
        """One storage; its secret configuration values read back as ``***``."""
        return _public_storage(self._r("storages").get(storage_id))

    def list_storages(self, params: Params = None, list_all: bool = False) -> Any:
        """Storages (secrets masked)."""
        found = self._list("storages", params, list_all)
        if list_all:
            rows, count = found
            return (_public_storage(r) for r in rows), count
        found["results"] = [_public_storage(r) for r in found["results"]]
        return found

    def get_default_storage(self) -> Record:
        """The storage marked ``is_default`` (a fresh home has a local one)."""
        for storage in self._r("storages").iterate({"is_default": True}):
            return _public_storage(storage)
        from synapse_sdk.errors import ResourceNotFound

        raise ResourceNotFound("no default storage; create one with is_default=true")

    # -- data collections, files and units -------------------------------------------------------

    def create_data_collection(self, data: Mapping[str, Any]) -> Record:
        """A data collection: ``{"name", "file_specifications": [{"name", "file_type", ...}]}``."""
        return self._r("data_collections").create(data)

    def get_data_collection(self, collection_id: int) -> Record:
        """One data collection with its file specifications."""
        return self._r("data_collections").get(collection_id)

    def list_data_collections(self, params: Params = None, list_all: bool = False) -> Any:
        """Data collections."""
        return self._list("data_collections", params, list_all)

    def create_data_file(
        self, file_path: str | Path, storage: int | None = None, *, checksum: str | None = None, **meta: Any
    ) -> Record:
        """Upload a local file into a storage (the default one unless ``storage``) as a data file.

        Files are stored by content: the same bytes again give back the same data file. With
        ``checksum`` (its sha256), bytes that hash otherwise raise ``FileChecksumMismatch`` (a
        ``ChecksumMismatch``: the file changed while it was uploaded) and nothing is stored.
        """
        path = Path(file_path)
        return self.backend.files.upload(path, name=path.name, storage=storage, meta=meta, checksum=checksum)

    def create_data_files(
        self, files: Sequence[Mapping[str, Any]], storage: int | None = None, *, workers: int = 8
    ) -> list[Record | SynapseError]:
        """Upload many local files as data files; one outcome per entry, in order.

        Each entry is ``{"path": Path, "name": str (default: the path's name), "checksum": sha256
        or None, "meta": dict}``; its outcome is the data file's record, or the error for that file
        alone (a missing file, ``FileChecksumMismatch``, a storage failure): one bad file never
        fails the others. ``workers`` files move at a time; files stored already are not sent again.
        """
        return self.backend.files.upload_many(list(files), storage, workers=workers)

    def list_data_files(self, params: Params = None, list_all: bool = False) -> Any:
        """Data files, e.g. ``{"storage": 1, "checksum": [...]}`` (a list means any of them)."""
        return self._list("data_files", params, list_all)

    def find_data_files(self, checksums: Iterable[str], storage: int | None = None) -> dict[str, Record]:
        """The data files stored in ``storage`` (the default one when None) whose sha256 is one of
        ``checksums``, by checksum; checksums with no data file are absent.

        Queries :data:`FIND_CHUNK` checksums at a time (an HTTP query stays near 4 KB).
        """
        if storage is None:
            storage = int(self.get_default_storage()["id"])
        resource = self._r("data_files")
        wanted = list(dict.fromkeys(checksums))
        found: dict[str, Record] = {}
        for start in range(0, len(wanted), FIND_CHUNK):
            chunk = wanted[start : start + FIND_CHUNK]
            for row in resource.iterate({"storage": storage, "checksum": chunk}):
                found.setdefault(row["checksum"], row)
        return found

    def get_data_file(self, data_file_id: int) -> Record:
        """One data file: storage, path, size, sha256, mime type."""
        return self._r("data_files").get(data_file_id)

    def open_data_file(self, data_file_id: int) -> BinaryIO:
        """The bytes of a data file, streamed (close it when done)."""
        return self.backend.files.open(data_file_id)

    def create_data_units(self, data: Sequence[Mapping[str, Any]]) -> list[Record]:
        """Many data units at once: ``[{"data_collection", "files": {spec: {"data_file"}}, "meta"}]``."""
        return self._r("data_units").create_many(list(data))

    def get_data_unit(self, data_unit_id: int) -> Record:
        """One data unit."""
        return self._r("data_units").get(data_unit_id)

    def update_data_unit(self, data_unit_id: int, data: Mapping[str, Any]) -> Record:
        """Change a data unit's ``meta`` or ``files`` (its identity, ``checksum``, stays its first files')."""
        return self._r("data_units").update(data_unit_id, data)

    def list_data_units(self, params: Params = None, list_all: bool = False) -> Any:
        """Data units, e.g. ``{"data_collection": 3}``."""
        return self._list("data_units", params, list_all)

    # -- projects, tasks, assignments -------------------------------------------------------------

    def create_project(self, data: Mapping[str, Any]) -> Record:
        """A project: ``{"title", "data_collection", "configuration": {tool: [classes]}}``."""
        return self._r("projects").create(data)

    def get_project(self, project_id: int) -> Record:
        """One project with its label configuration."""
        return self._r("projects").get(project_id)

    def list_projects(self, params: Params = None, list_all: bool = False) -> Any:
        """Projects."""
        return self._list("projects", params, list_all)

    def create_tasks(self, data: Sequence[Mapping[str, Any]]) -> list[Record]:
        """Many tasks at once: ``[{"project", "data_unit", "data": <DM v2 annotation>}]``."""
        return self._r("tasks").create_many(list(data))

    def get_task(self, task_id: int) -> Record:
        """One task with its annotation."""
        return self._r("tasks").get(task_id)

    def list_tasks(self, params: Params = None, list_all: bool = False) -> Any:
        """Tasks, e.g. ``{"project": 456, "status": "completed"}``; ``list_all``: ``(generator, count)``."""
        return self._list("tasks", params, list_all)

    def update_task(self, task_id: int, data: Mapping[str, Any]) -> Record:
        """Change a task's ``status``, ``data``, ``tags`` or ``predictions``."""
        return self._r("tasks").update(task_id, data)

    def annotate_task_data(self, task_id: int, data: Mapping[str, Any]) -> Record:
        """Set a task's annotation (validated as DM v2)."""
        return self._r("tasks").update(task_id, {"data": dict(data)})

    def create_assignments(self, data: Sequence[Mapping[str, Any]]) -> list[Record]:
        """Many assignments at once: ``[{"project", "task", "annotator"}]``."""
        return self._r("assignments").create_many(list(data))

    def get_assignment(self, assignment_id: int) -> Record:
        """One assignment."""
        return self._r("assignments").get(assignment_id)

    def list_assignments(self, params: Params = None, list_all: bool = False) -> Any:
        """Assignments, e.g. ``{"project": 456, "status": "submitted"}``."""
        return self._list("assignments", params, list_all)

    def update_assignment(self, assignment_id: int, data: Mapping[str, Any]) -> Record:
        """Change an assignment's ``status``, ``data``, ``annotator`` or times."""
        return self._r("assignments").update(assignment_id, data)

    # -- ground truth ---------------------------------------------------------------------------

    def create_ground_truth_dataset(self, data: Mapping[str, Any]) -> Record:
        """A ground-truth dataset: ``{"name", "project", "description"}``."""
        return self._r("ground_truth_datasets").create(data)

    def get_ground_truth_dataset(self, dataset_id: int) -> Record:
        """One ground-truth dataset."""
        return self._r("ground_truth_datasets").get(dataset_id)

    def list_ground_truth_datasets(self, params: Params = None, list_all: bool = False) -> Any:
        """Ground-truth datasets."""
        return self._list("ground_truth_datasets", params, list_all)

    def create_ground_truth_version(self, dataset: int, version: str) -> Record:
        """A new, open version of a dataset; add events, then freeze it."""
        return self._r("ground_truth_dataset_versions").create({"dataset": dataset, "version": version})

    def get_ground_truth_version(self, version_id: int) -> Record:
        """One ground-truth dataset version."""
        return self._r("ground_truth_dataset_versions").get(version_id)

    def list_ground_truth_versions(self, params: Params = None, list_all: bool = False) -> Any:
        """Versions, e.g. ``{"dataset": 7}``."""
        return self._list("ground_truth_dataset_versions", params, list_all)

    def add_ground_truth_events(self, version_id: int, events: Sequence[Mapping[str, Any]]) -> list[Record]:
        """Items of an open version: ``[{"data_unit", "data": <DM v2>, "split": "train"}]``."""
        items = [{**event, "ground_truth_dataset_version": version_id} for event in events]
        return self._r("ground_truth_events").create_many(items)

    def list_ground_truth_events(self, params: Params = None, list_all: bool = False) -> Any:
        """Events, e.g. ``{"ground_truth_dataset_version": 123, "split": "val"}``."""
        return self._list("ground_truth_events", params, list_all)

    def freeze_ground_truth_version(self, version_id: int) -> Record:
        """Freeze a version: from now on its events cannot change."""
        return self._r("ground_truth_dataset_versions").update(version_id, {"is_frozen": True})

    # -- models ---------------------------------------------------------------------------------

    def create_model(self, data: Mapping[str, Any], file: str | Path | None = None) -> Record:
        """Register a trained model: ``{"name", "plugin", "run", "configuration", "metrics"}``, its file."""
        record = dict(data)
        if file is not None:
            uploaded = self.create_data_file(file)
            record.update(file=uploaded["id"], checksum=uploaded["checksum"])
        return self._r("models").create(record)

    def get_model(self, model_id: int) -> Record:
        """One model."""
        return self._r("models").get(model_id)

    def list_models(self, params: Params = None, list_all: bool = False) -> Any:
        """Models, e.g. ``{"name": "digits-cnn"}``."""
        return self._list("models", params, list_all)


def _whole(value: Any, where: str, low: int, high: int) -> int:
    """A listing's ``page`` or ``page_size``: a whole number from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        number = None
    else:
        number = int(value)
    if number is None or not low <= number <= high:
        from synapse_sdk.errors import UsageError

        raise UsageError(f"{where}: expected a whole number from {low} to {high}, got {value!r}")
    return number


def _public_storage(record: Record) -> Record:
    """A storage as it is shown: secret configuration values masked."""
    from synapse_sdk.backend.checks import public_storage

    return public_storage(record)


def get_backend_client(settings: Settings | None = None) -> BackendClient:
    """The client of the configured platform: HTTP with ``SYNAPSE_HOST``, else embedded."""
    from synapse_sdk.backend import get_backend

    return BackendClient(backend=get_backend(settings))
