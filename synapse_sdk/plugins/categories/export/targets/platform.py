"""Export items from the platform: assignments, tasks or ground-truth events, streamed in id order.

Each listing is read through the client's ``list_*(filters, list_all=True)`` generator, a page
at a time; per page of records the data units, data files (and for assignments their tasks) are
fetched in one batch each, so a page of 200 items costs a handful of calls, never one per item.
An item is ``{"id", "data", "files", ...}`` where ``files`` is the primary file of the item's
data unit (see :func:`file_entry`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from itertools import islice
from typing import TYPE_CHECKING, Any

from synapse_sdk.plugins.categories.export.targets.classes import (
    classes_of_configuration,
    classes_of_items,
)

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient

#: Records per batch of lookups (data units, data files, tasks).
PAGE = 200
#: The listing each target reads, under the client's method names.
LISTINGS = {"assignment": "assignments", "task": "tasks", "ground_truth": "ground_truth_events"}


class PlatformItems:
    """The export items of one target and filter: sized, iterable more than once, in id order.

    ``filters`` are the listing's filters (validated by the export params); ``expand`` names
    the related records to include whole (``data_unit``, ``task``, ``assignment``) instead of
    their ids. ``classes`` are the export's classes, from the project's configuration.
    """

    def __init__(
        self, client: BackendClient, target: str, filters: Mapping[str, Any], expand: Sequence[str] = ()
    ) -> None:
        self.client = client
        self.target = target
        self.filters = dict(filters)
        self.expand = frozenset(expand)
        self._collections: dict[int, str | None] = {}

    def __repr__(self) -> str:
        return f"PlatformItems({self.target!r}, {self.filters!r})"

    def _listing(self) -> tuple[Iterator[dict[str, Any]], int]:
        lister = getattr(self.client, f"list_{LISTINGS[self.target]}")
        rows, count = lister(dict(self.filters), list_all=True)
        return iter(rows), int(count)

    def __len__(self) -> int:
        return self._listing()[1]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rows, _ = self._listing()
        while page := list(islice(rows, PAGE)):
            yield from self._items(page)

    # -- the project and its classes -------------------------------------------------------------

    @cached_property
    def project(self) -> dict[str, Any] | None:
        """The project the items belong to (a ground-truth dataset may have none)."""
        project_id = self.filters.get("project")
        if self.target == "ground_truth":
            version = self.client.get_ground_truth_version(self.filters["ground_truth_dataset_version"])
            project_id = self.client.get_ground_truth_dataset(version["dataset"]).get("project")
        return self.client.get_project(project_id) if project_id else None

    @cached_property
    def classes(self) -> list[str]:
        """The project configuration's classes in order, or (no project, or none configured) the
        classes the annotations use, in order of first use."""
        project = self.project
        names = classes_of_configuration(project.get("configuration")) if project else []
        return names or classes_of_items(self)

    def check(self) -> None:
        """Raise ``ResourceNotFound`` unless the filter's project or ground-truth version exists."""
        if self.target == "ground_truth":
            self.client.get_ground_truth_version(self.filters["ground_truth_dataset_version"])
        else:
            self.client.get_project(self.filters["project"])

    # -- one page of records into export items ---------------------------------------------------

    def _items(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        tasks: dict[int, dict[str, Any]] = {}
        if self.target == "assignment":
            ids = [r["id"] for r in records]
            tasks = {t["id"]: t for t in _all(self.client.list_tasks({"assignment": ids}, list_all=True))}
            unit_ids = [tasks[r["task"]]["data_unit"] for r in records if r["task"] in tasks]
        else:
            unit_ids = [r.get("data_unit") for r in records]
        units = self._by_id("data_units", unit_ids)
        primaries = {uid: self._primary(unit) for uid, unit in units.items()}
        files = self._by_id("data_files", [p.get("data_file") for p in primaries.values() if p])
        assignments: dict[int, dict[str, Any]] = {}
        if self.target == "task" and "assignment" in self.expand:
            found = self.client.list_assignments({"task": [r["id"] for r in records]}, list_all=True)
            for assignment in _all(found):
                assignments[assignment["task"]] = assignment  # by id: the task's latest one wins
        items = []
        for record in records:
            task = tasks.get(record["task"]) if self.target == "assignment" else None
            unit_id = task["data_unit"] if task is not None else record.get("data_unit")
            unit = units.get(unit_id) if unit_id else None
            primary = primaries.get(unit_id) if unit_id else None
            data_file = files.get(primary["data_file"]) if primary and "data_file" in primary else None
            item: dict[str, Any] = {
                "id": record["id"],
                "data": record.get("data"),
                "files": file_entry(primary, data_file),
                "data_unit": unit if "data_unit" in self.expand and unit is not None else unit_id,
            }
            if self.target == "ground_truth":
                item.update(
                    split=record["split"], ground_truth_dataset_version=record["ground_truth_dataset_version"]
                )
            elif self.target == "task":
                item.update(project=record["project"], status=record["status"], tags=record.get("tags", []))
                if "assignment" in self.expand:
                    item["assignment"] = assignments.get(record["id"])
            else:
                item.update(
                    project=record["project"],
                    status=record["status"],
                    annotator=record.get("annotator"),
                    task=task if "task" in self.expand else record["task"],
                )
            items.append(item)
        return items

    def _by_id(self, resource: str, ids: Iterable[Any]) -> dict[int, dict[str, Any]]:
        """Records of ``resource`` by id, fetched in one listing (``id`` is a filter of units and files)."""
        wanted = sorted({i for i in ids if isinstance(i, int)})
        if not wanted:
            return {}
        # One page larger than the ids: the listing ends on a short page, with no request for the next.
        rows = self.client.backend.resource(resource).iterate({"id": wanted}, page_size=len(wanted) + 1)
        return {row["id"]: row for row in rows}

    def _primary(self, unit: Mapping[str, Any]) -> dict[str, Any] | None:
        """The unit's primary file entry: its collection's primary specification, else its first file."""
        files = unit.get("files") or {}
        collection = int(unit["data_collection"])
        if collection not in self._collections:
            specs = self.client.get_data_collection(collection).get("file_specifications") or []
            primary = next((s["name"] for s in specs if s.get("is_primary")), None)
            self._collections[collection] = primary or (specs[0]["name"] if specs else None)
        name = self._collections[collection]
        if name not in files:
            name = next(iter(files), None)
        entry = files.get(name) if name is not None else None
        return dict(entry) if isinstance(entry, Mapping) else None


def file_entry(primary: Mapping[str, Any] | None, data_file: Mapping[str, Any] | None) -> dict[str, Any]:
    """An item's ``files``: its primary data file's id, storage and key (``path``), original name,
    size, sha256 and, for images, width and height (measured at upload); ``{}`` for none."""
    if not primary:
        return {}
    if not data_file:
        return {"data_file": primary.get("data_file"), "path": primary.get("path"),
                "checksum": primary.get("checksum")}  # fmt: skip
    meta = data_file.get("meta") or {}
    path = str(data_file["path"])
    return {
        "data_file": data_file["id"],
        "path": path,
        "file_name_original": data_file.get("name") or path.rsplit("/", 1)[-1],
        "size": data_file["size"],
        "checksum": data_file["checksum"],
        "width": meta.get("width"),
        "height": meta.get("height"),
        "storage": data_file["storage"],
    }


def _all(found: tuple[Iterable[dict[str, Any]], int]) -> Iterator[dict[str, Any]]:
    return iter(found[0])
