"""``import_coco``: a COCO file and its images into a project, resumable (see the package docstring)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from synapse_sdk.clients.backend.imports.batches import import_batches
from synapse_sdk.clients.backend.imports.ground_truth import add_ground_truth
from synapse_sdk.clients.backend.imports.images import check_images
from synapse_sdk.clients.backend.imports.project import prepare_project
from synapse_sdk.clients.backend.imports.report import ImportReport, ProgressCallback
from synapse_sdk.errors import UsageError

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient


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
    creates nothing twice (see the package docstring). ``UsageError`` or ``AnnotationError``
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
    images, missing = check_images(dataset, folder, skip_missing)
    if storage is not None:
        client.get_storage(storage)  # a missing storage is refused before anything is written
    report, spec = prepare_project(client, dataset, images, project, collection)
    report.images = len(images) + len(missing)
    report.skipped = len(missing)
    report.problems.extend(f"skipped {line}" for line in missing)
    notify = progress or (lambda phase, done, total: None)
    kept = import_batches(client, images, report, spec, storage, batch_size, notify)
    if ground_truth is not None:
        add_ground_truth(client, ground_truth, report, kept, val_fraction, seed, notify)
    return report
