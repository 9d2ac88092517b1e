"""Images to the platform a batch at a time: their files uploaded, a data unit and a task each.

Each batch finds what an earlier (interrupted) run made (data units by checksum, tasks by data
unit) and creates only the rest, in one transaction per kind; another import creating the same
records meanwhile is a conflict resolved by taking theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from synapse_sdk.clients.backend.imports.images import SourceImage
from synapse_sdk.clients.backend.imports.lookup import find
from synapse_sdk.clients.backend.imports.report import PHASES, ImportReport, ProgressCallback
from synapse_sdk.errors import ResourceConflict

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient


def import_batches(
    client: BackendClient,
    images: list[SourceImage],
    report: ImportReport,
    spec: str,
    storage: int | None,
    batch_size: int,
    notify: ProgressCallback,
) -> list[tuple[dict[str, Any], SourceImage]]:
    """Upload, data units and tasks a batch at a time; the (data unit, image) pairs that hold a task."""
    from synapse_sdk.backend.resources import DATA_UNITS

    total = len(images)
    for phase in PHASES[:3]:
        notify(phase, 0, total)
    kept: list[tuple[dict[str, Any], SourceImage]] = []
    first_of: dict[str, SourceImage] = {}
    done = 0
    for start in range(0, total, batch_size):
        batch = images[start : start + batch_size]
        units: list[dict[str, Any]] = []
        for image in batch:
            stored = client.create_data_file(image.path, storage=storage)
            report.uploaded += 1
            notify("upload", report.uploaded, total)
            _check_size(stored, image, report)
            files = {
                spec: {"data_file": stored["id"], "path": stored["path"], "checksum": stored["checksum"]}
            }
            meta = {"file_name": image.file_name, image.meta_key: image.source_id}
            units.append({"data_collection": report.data_collection, "files": files, "meta": meta})
        # The platform's own rule gives each unit its identity (its image's checksum).
        units = DATA_UNITS.validate_many(units, "data_units")
        fresh: list[tuple[dict[str, Any], SourceImage]] = []
        for unit, image in zip(units, batch, strict=True):
            earlier = first_of.setdefault(unit["checksum"], image)
            if earlier is image:
                fresh.append((unit, image))
            else:
                report.duplicates += 1
                report.problems.append(
                    f"{image.path}: same bytes as {earlier.file_name} ({image.format} images "
                    f"{image.shown_id} and {earlier.shown_id}); one data unit and task hold image "
                    f"{earlier.shown_id}'s annotations"
                )
        by_sum = _data_units(client, report, [unit for unit, _ in fresh])
        pairs = [(by_sum[unit["checksum"]], image) for unit, image in fresh]
        done += len(batch)
        notify("data_units", done, total)
        _tasks(client, report, pairs)
        notify("tasks", done, total)
        kept.extend(pairs)
        report.annotations += sum(image.annotations for _, image in pairs)
    return kept


def _check_size(stored: Mapping[str, Any], image: SourceImage, report: ImportReport) -> None:
    meta = stored.get("meta") or {}
    size = (meta.get("width"), meta.get("height"))
    if None not in size and size != (image.width, image.height):
        report.problems.append(
            f"{image.path}: the file is {size[0]}x{size[1]}, {image.label} says "
            f"{image.width}x{image.height}; its boxes may not fit the image"
        )


def _data_units(
    client: BackendClient, report: ImportReport, units: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The data units of ``units``, by checksum: found in the collection, the others created."""
    wanted = [unit["checksum"] for unit in units]
    found = find(client.list_data_units, {"data_collection": report.data_collection}, "checksum", wanted)
    by_sum = {unit["checksum"]: unit for unit in found}
    report.data_units_reused += len(by_sum)
    new = [unit for unit in units if unit["checksum"] not in by_sum]
    try:
        created = client.create_data_units(new) if new else []
    except ResourceConflict:  # another import created some of them meanwhile: take theirs
        again = find(client.list_data_units, {"data_collection": report.data_collection}, "checksum", wanted)
        theirs = {unit["checksum"]: unit for unit in again}
        new = [unit for unit in new if unit["checksum"] not in theirs]
        report.data_units_reused += len(theirs) - len(by_sum)
        by_sum.update(theirs)
        created = client.create_data_units(new) if new else []
    report.data_units_created += len(created)
    by_sum.update((unit["checksum"], unit) for unit in created)
    return by_sum


def _tasks(
    client: BackendClient, report: ImportReport, pairs: list[tuple[dict[str, Any], SourceImage]]
) -> None:
    """A task per data unit in the project, with its image's annotation; existing ones left as they are."""
    ids = [unit["id"] for unit, _ in pairs]
    have = {
        task["data_unit"] for task in find(client.list_tasks, {"project": report.project}, "data_unit", ids)
    }
    new = [
        {"project": report.project, "data_unit": unit["id"], "data": image.data}
        for unit, image in pairs
        if unit["id"] not in have
    ]
    try:
        created = client.create_tasks(new) if new else []
    except ResourceConflict:  # another import created some of them meanwhile
        again = find(client.list_tasks, {"project": report.project}, "data_unit", ids)
        have = {task["data_unit"] for task in again}
        new = [task for task in new if task["data_unit"] not in have]
        created = client.create_tasks(new) if new else []
    report.tasks_created += len(created)
    report.tasks_reused += len(pairs) - len(created)
