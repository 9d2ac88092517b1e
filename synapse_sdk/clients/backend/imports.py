"""Import an annotated image set into the platform: COCO images become data units, tasks and ground truth.

:func:`import_coco` (what ``synapse data import coco`` runs) checks the whole input first, then
works through the images a batch at a time (upload, data units, tasks), so an import killed
half-way and started again carries on where it stopped and creates nothing twice:

- image bytes are stored by content: the same bytes give back the same data file;
- a data unit's identity is its image's checksum (``checksum``, unique per collection): a unit
  that exists is found and reused, each batch of new ones is created in one transaction;
- a project has one task per data unit: a task that exists is left as it is (an annotator may
  have worked on it since), only the missing ones are created, a batch per transaction;
- with ``ground_truth``, a dataset's open (unfrozen) version is taken to be an interrupted
  import's: its missing events are added and it is frozen. A frozen version holding exactly
  these items is reused; otherwise the next version number is created.

Missing image files are refused up front: nothing is imported and each one is named on its own
line with its COCO image id. With ``skip_missing=True`` they are skipped and counted instead. A
broken annotation always refuses the import (the COCO file needs fixing), each on its line.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import AnnotationError, ResourceConflict, UsageError

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient
    from synapse_sdk.formats.coco import CocoDataset

__all__ = [
    "PHASES",
    "ImportReport",
    "ProgressCallback",
    "import_coco",
    "split_items",
]

#: The phases ``progress`` is called with, in this order (each first with ``done=0``).
PHASES: Final = ("upload", "data_units", "tasks", "ground_truth")
#: ``progress(phase, done, total)``: called as each phase advances.
ProgressCallback = Callable[[str, int, int], None]

#: The file specification of the image collections an import creates.
IMAGE_SPEC: Final = {
    "name": "image",
    "file_type": "image",
    "is_primary": True,
    "is_required": True,
}
#: Checksums or ids per listing query (over HTTP they travel in the URL).
_LOOKUP: Final = 100
#: Problem lines an error shows before "... and N more".
_SHOWN: Final = 20


@dataclass
class ImportReport:
    """What an import did: what it created and what it found already there, and what it skipped."""

    project: int
    data_collection: int
    #: Images in the COCO file.
    images: int = 0
    #: Image files stored (or found stored, by content).
    uploaded: int = 0
    data_units_created: int = 0
    data_units_reused: int = 0
    tasks_created: int = 0
    tasks_reused: int = 0
    #: COCO annotations carried into the tasks of this import's images.
    annotations: int = 0
    #: Images skipped because their file is missing (``skip_missing``).
    skipped: int = 0
    #: Images whose bytes equal an earlier image's: one data unit and task hold the first one's annotations.
    duplicates: int = 0
    ground_truth_dataset: int | None = None
    ground_truth_version: int | None = None
    #: The version label (``"1"``, ``"2"``...).
    version: str | None = None
    #: Whether a frozen version with the same items was found, instead of a new one made.
    version_reused: bool = False
    #: Events per split of the version, like ``{"train": 240, "val": 60}``.
    splits: dict[str, int] = field(default_factory=dict)
    #: One line per skipped or duplicate image, or an image whose size differs from the COCO file's.
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return asdict(self)

    def summary(self) -> str:
        """One line: what was imported into which project, and what was found already there."""
        text = (
            f"imported {self.images - self.skipped} of {self.images} image(s) into project {self.project}: "
            f"{self.data_units_created} data unit(s) created, {self.data_units_reused} found; "
            f"{self.tasks_created} task(s) created, {self.tasks_reused} found; "
            f"{self.annotations} annotation(s)"
        )
        if self.skipped:
            text += f"; {self.skipped} skipped (file missing)"
        if self.duplicates:
            text += f"; {self.duplicates} duplicate(s)"
        if self.ground_truth_version is not None:
            split = ", ".join(f"{n} {name}" for name, n in self.splits.items())
            state = "found frozen" if self.version_reused else "frozen"
            text += f"; ground truth version {self.version} (id {self.ground_truth_version}) {state}: {split}"
        return text


@dataclass
class _Image:
    """One image of the COCO file to import: where its file is and its annotation as DM v2 data."""

    coco_id: int | str
    file_name: str
    path: Path
    width: int
    height: int
    data: dict[str, Any]
    annotations: int


def import_coco(
    client: BackendClient,
    images_dir: str | os.PathLike[str],
    annotations: str | os.PathLike[str],
    *,
    project: str,
    collection: str | None = None,
    storage: int | None = None,
    ground_truth: str | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    skip_missing: bool = False,
    batch_size: int = 100,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a COCO file and its images into project ``project`` (by title, created when new).

    The images go into the data collection ``collection`` (default: the project's, or one named
    like the project), into ``storage`` (default: the default storage). Each image becomes a data
    unit and a task whose ``data`` is its annotations as DM v2. With ``ground_truth``, a dataset of
    that name gets a frozen version whose events split the images into train and val
    (``val_fraction`` of them, chosen by ``seed``, the same on every run). Running it again
    creates nothing twice (see the module docstring). ``UsageError`` or ``AnnotationError``
    (exit 2) name the file, field or COCO id of bad input before anything is written.
    """
    from synapse_sdk.formats.coco import read_coco

    folder = Path(images_dir)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder; give the folder that holds the COCO file's images")
    if not 0 <= val_fraction < 1:
        raise UsageError(f"val_fraction: expected a number from 0 to below 1, like 0.2, got {val_fraction!r}")
    if batch_size < 1:
        raise UsageError(f"batch_size: expected a positive number of images, like 100, got {batch_size!r}")
    dataset = read_coco(annotations)
    images, missing = _check_images(dataset, folder, skip_missing)
    if storage is not None:
        client.get_storage(storage)  # a missing storage is refused before anything is written
    report, spec = _prepare(client, dataset, images, project, collection)
    report.images = len(images) + len(missing)
    report.skipped = len(missing)
    report.problems.extend(f"skipped {line}" for line in missing)
    notify = progress or (lambda phase, done, total: None)
    kept = _import_batches(client, images, report, spec, storage, batch_size, notify)
    if ground_truth is not None:
        _ground_truth(client, ground_truth, report, kept, val_fraction, seed, notify)
    return report


def _check_images(dataset: CocoDataset, folder: Path, skip_missing: bool) -> tuple[list[_Image], list[str]]:
    """Every image with its file and DM v2 annotation; all problems at once, before any write."""
    from synapse_sdk.formats.dm import dump

    images: list[_Image] = []
    missing: list[str] = []
    broken: list[str] = []
    for image in dataset:
        path = Path(os.path.normpath(folder / image.file_name))
        if not path.is_relative_to(os.path.normpath(folder)):
            broken.append(
                f"{dataset.path}: image {image.id}: file_name {image.file_name!r} is outside {folder}; "
                "give a path relative to the images folder"
            )
            continue
        try:
            annotation = image.annotation
        except AnnotationError as exc:
            broken.append(str(exc))
            continue
        if not path.is_file():
            missing.append(f"{path}: no such file (COCO image {image.id})")
            continue
        boxes = len(annotation.images[0].bounding_box) if annotation.images else 0
        images.append(
            _Image(image.id, image.file_name, path, image.width, image.height, dump(annotation), boxes)
        )
    if broken:
        advice = "nothing was imported: fix the COCO file and run the import again"
        raise AnnotationError(
            _problems(broken, f"{dataset.path}: {len(broken)} image(s) are broken", advice), broken
        )
    if missing and not skip_missing:
        total = len(images) + len(missing)
        advice = (
            f"nothing was imported (skip_missing=True, or --skip-missing, imports the other {len(images)})"
        )
        raise UsageError(
            _problems(missing, f"{len(missing)} of {total} image files are missing from {folder}", advice)
        )
    return images, missing


def _problems(lines: list[str], summary: str, advice: str) -> str:
    """One problem per line (at most ``_SHOWN``), the advice on the last one; one line for one problem."""
    if len(lines) == 1:
        return f"{lines[0]}; {advice}"
    shown = lines if len(lines) <= _SHOWN else [*lines[:_SHOWN], f"... and {len(lines) - _SHOWN} more"]
    return "\n".join([*shown, f"{summary}; {advice}"])


def _prepare(
    client: BackendClient, dataset: CocoDataset, images: list[_Image], title: str, collection: str | None
) -> tuple[ImportReport, str]:
    """The project (found by title or created) with the COCO categories in its labels, its image
    collection, and the name of that collection's image file specification.

    Nothing is created until the images are known to fit the collection's file extensions.
    """
    labels = {
        tool: [{"name": name, "attributes": []} for name in names]
        for tool, names in dataset.classification.items()
        if names
    }
    found = _first(client.list_projects({"title": title}, list_all=True))
    name = collection or title
    record: dict[str, Any] | None
    if found is not None and found.get("data_collection"):
        record = client.get_data_collection(found["data_collection"])
        if collection is not None and collection != record["name"]:
            raise UsageError(
                f"project {title!r} works on data collection {record['name']!r}, not {collection!r}; "
                "leave the collection out or name that one"
            )
    else:
        record = _first(client.list_data_collections({"name": name}, list_all=True))
    new = {
        "name": name,
        "description": "Images imported from COCO",
        "file_specifications": [dict(IMAGE_SPEC)],
    }
    spec = _image_spec(record or new, images)
    if record is None:
        record = _find_or_create(
            client.list_data_collections, {"name": name}, lambda: client.create_data_collection(new)
        )
    if found is None:
        item = {"title": title, "data_collection": record["id"], "configuration": labels,
                "description": f"Imported from {dataset.path.name}"}  # fmt: skip
        found = _find_or_create(client.list_projects, {"title": title}, lambda: client.create_project(item))
    else:
        merged = _merge_labels(found.get("configuration") or {}, labels)
        if merged != found.get("configuration"):
            client.backend.resource("projects").update(found["id"], {"configuration": merged})
    return ImportReport(project=found["id"], data_collection=record["id"]), spec


def _find_or_create(
    listing: Callable[..., Any], filters: Mapping[str, Any], create: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """The record ``filters`` name, else a new one (or the one another import created meanwhile)."""
    found = _first(listing(filters, list_all=True))
    if found is not None:
        return found
    try:
        return create()
    except ResourceConflict:
        found = _first(listing(filters, list_all=True))
        if found is None:
            raise
        return found


def _image_spec(collection: Mapping[str, Any], images: list[_Image]) -> str:
    """The name of the collection's image file specification (the primary one if several), once
    every image's file extension is one it takes."""
    specs = [s for s in collection.get("file_specifications") or [] if s.get("file_type") == "image"]
    if not specs:
        raise UsageError(
            f"data collection {collection['name']!r} has no image file specification; "
            "name another collection, or a new one"
        )
    spec = next((s for s in specs if s.get("is_primary")), specs[0])
    allowed = {e.lower() for e in spec.get("extensions") or []}
    refused = [i for i in images if allowed and i.path.suffix.lower() not in allowed]
    if refused:
        lines = [
            f"{i.path}: a {i.path.suffix or 'file without extension'} file (COCO image {i.coco_id})"
            for i in refused
        ]
        takes = f"data collection {collection['name']!r} takes {', '.join(sorted(allowed))} images"
        raise UsageError(
            _problems(lines, f"{len(refused)} image(s) cannot go in", f"{takes}; nothing was imported")
        )
    return str(spec["name"])


def _merge_labels(
    configuration: Mapping[str, Any], labels: Mapping[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """The project's label configuration with the COCO classes it lacks added (none removed)."""
    merged = {key: list(value) if isinstance(value, list) else value for key, value in configuration.items()}
    for tool, classes in labels.items():
        current = merged.setdefault(tool, [])
        if not isinstance(current, list):
            continue
        names = {c.get("name") if isinstance(c, dict) else c for c in current}
        current.extend(c for c in classes if c["name"] not in names)
    return merged


def _import_batches(
    client: BackendClient,
    images: list[_Image],
    report: ImportReport,
    spec: str,
    storage: int | None,
    batch_size: int,
    notify: ProgressCallback,
) -> list[tuple[dict[str, Any], _Image]]:
    """Upload, data units and tasks a batch at a time; the (data unit, image) pairs that hold a task."""
    from synapse_sdk.backend.resources import DATA_UNITS

    total = len(images)
    for phase in PHASES[:3]:
        notify(phase, 0, total)
    kept: list[tuple[dict[str, Any], _Image]] = []
    first_of: dict[str, _Image] = {}
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
            meta = {"file_name": image.file_name, "coco_image_id": image.coco_id}
            units.append({"data_collection": report.data_collection, "files": files, "meta": meta})
        # The platform's own rule gives each unit its identity (its image's checksum).
        units = DATA_UNITS.validate_many(units, "data_units")
        fresh: list[tuple[dict[str, Any], _Image]] = []
        for unit, image in zip(units, batch, strict=True):
            earlier = first_of.setdefault(unit["checksum"], image)
            if earlier is image:
                fresh.append((unit, image))
            else:
                report.duplicates += 1
                report.problems.append(
                    f"{image.path}: same bytes as {earlier.file_name} (COCO images {image.coco_id} and "
                    f"{earlier.coco_id}); one data unit and task hold image {earlier.coco_id}'s annotations"
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


def _check_size(stored: Mapping[str, Any], image: _Image, report: ImportReport) -> None:
    meta = stored.get("meta") or {}
    size = (meta.get("width"), meta.get("height"))
    if None not in size and size != (image.width, image.height):
        report.problems.append(
            f"{image.path}: the file is {size[0]}x{size[1]}, COCO image {image.coco_id} says "
            f"{image.width}x{image.height}; its boxes may not fit the image"
        )


def _data_units(
    client: BackendClient, report: ImportReport, units: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The data units of ``units``, by checksum: found in the collection, the others created."""
    wanted = [unit["checksum"] for unit in units]
    found = _find(client.list_data_units, {"data_collection": report.data_collection}, "checksum", wanted)
    by_sum = {unit["checksum"]: unit for unit in found}
    report.data_units_reused += len(by_sum)
    new = [unit for unit in units if unit["checksum"] not in by_sum]
    try:
        created = client.create_data_units(new) if new else []
    except ResourceConflict:  # another import created some of them meanwhile: take theirs
        again = _find(client.list_data_units, {"data_collection": report.data_collection}, "checksum", wanted)
        theirs = {unit["checksum"]: unit for unit in again}
        new = [unit for unit in new if unit["checksum"] not in theirs]
        report.data_units_reused += len(theirs) - len(by_sum)
        by_sum.update(theirs)
        created = client.create_data_units(new) if new else []
    report.data_units_created += len(created)
    by_sum.update((unit["checksum"], unit) for unit in created)
    return by_sum


def _tasks(client: BackendClient, report: ImportReport, pairs: list[tuple[dict[str, Any], _Image]]) -> None:
    """A task per data unit in the project, with its image's annotation; existing ones left as they are."""
    ids = [unit["id"] for unit, _ in pairs]
    have = {
        task["data_unit"] for task in _find(client.list_tasks, {"project": report.project}, "data_unit", ids)
    }
    new = [
        {"project": report.project, "data_unit": unit["id"], "data": image.data}
        for unit, image in pairs
        if unit["id"] not in have
    ]
    try:
        created = client.create_tasks(new) if new else []
    except ResourceConflict:  # another import created some of them meanwhile
        again = _find(client.list_tasks, {"project": report.project}, "data_unit", ids)
        have = {task["data_unit"] for task in again}
        new = [task for task in new if task["data_unit"] not in have]
        created = client.create_tasks(new) if new else []
    report.tasks_created += len(created)
    report.tasks_reused += len(pairs) - len(created)


def _ground_truth(
    client: BackendClient,
    name: str,
    report: ImportReport,
    kept: list[tuple[dict[str, Any], _Image]],
    val_fraction: float,
    seed: int,
    notify: ProgressCallback,
) -> None:
    """A frozen version of dataset ``name``: an event per data unit, split train/val by ``seed``."""
    item = {"name": name, "project": report.project, "description": "Imported from COCO"}
    dataset = _find_or_create(
        client.list_ground_truth_datasets, {"name": name}, lambda: client.create_ground_truth_dataset(item)
    )
    report.ground_truth_dataset = dataset["id"]
    splits = split_items([unit["checksum"] for unit, _ in kept], val_fraction, seed)
    planned = {
        unit["id"]: {"data_unit": unit["id"], "data": image.data, "split": split}
        for (unit, image), split in zip(kept, splits, strict=True)
    }
    report.splits = {s: splits.count(s) for s in ("train", "val")}
    total = len(planned)
    notify("ground_truth", 0, total)
    versions = list(client.list_ground_truth_versions({"dataset": dataset["id"]}, list_all=True)[0])
    open_versions = [v for v in versions if not v["is_frozen"]]
    if open_versions:
        version = open_versions[-1]
    elif versions and _same_events(client, versions[-1]["id"], planned):
        report.ground_truth_version, report.version = versions[-1]["id"], versions[-1]["version"]
        report.version_reused = True
        notify("ground_truth", total, total)
        return
    else:
        numbers = [int(v["version"]) for v in versions if str(v["version"]).isdigit()]
        version = client.create_ground_truth_version(dataset["id"], str(max(numbers, default=0) + 1))
    events, _ = client.list_ground_truth_events(
        {"ground_truth_dataset_version": version["id"]}, list_all=True
    )
    present = {event["data_unit"] for event in events}
    done = len(present & planned.keys())
    notify("ground_truth", done, total)
    todo = [event for unit, event in planned.items() if unit not in present]
    for start in range(0, len(todo), 500):
        batch = todo[start : start + 500]
        client.add_ground_truth_events(version["id"], batch)
        done += len(batch)
        notify("ground_truth", done, total)
    client.freeze_ground_truth_version(version["id"])
    report.ground_truth_version, report.version = version["id"], version["version"]


def _same_events(client: BackendClient, version_id: int, planned: Mapping[int, Mapping[str, Any]]) -> bool:
    """Whether a version's events are exactly ``planned``: the same data units, splits and annotations."""
    events, count = client.list_ground_truth_events(
        {"ground_truth_dataset_version": version_id}, list_all=True
    )
    if count != len(planned):
        return False
    for event in events:
        want = planned.get(event["data_unit"])
        if want is None or want["split"] != event["split"] or want["data"] != event["data"]:
            return False
    return True


def split_items(checksums: Sequence[str], val_fraction: float, seed: int = 0) -> list[str]:
    """``"train"`` or ``"val"`` for each item: ``round(n * val_fraction)`` of them val, chosen by ``seed``.

    The choice depends only on the items' checksums and the seed, never on their order or on
    ids, so a resumed or repeated import splits the same way.
    """
    rank = sorted(
        range(len(checksums)), key=lambda i: hashlib.sha256(f"{seed}:{checksums[i]}".encode()).digest()
    )
    val = set(rank[: round(len(checksums) * val_fraction)])
    return ["val" if i in val else "train" for i in range(len(checksums))]


def _find(
    listing: Callable[..., Any], filters: Mapping[str, Any], key: str, values: Sequence[Any]
) -> Iterator[dict[str, Any]]:
    """The records whose ``key`` is one of ``values``, a listing query per ``_LOOKUP`` of them."""
    for start in range(0, len(values), _LOOKUP):
        chunk = list(values[start : start + _LOOKUP])
        rows, _ = listing({**filters, key: chunk}, list_all=True)
        yield from rows


def _first(found: tuple[Iterable[dict[str, Any]], int]) -> dict[str, Any] | None:
    return next(iter(found[0]), None)
