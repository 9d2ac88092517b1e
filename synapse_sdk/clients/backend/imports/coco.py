"""``import_coco``: a COCO file and its images into a project, resumable (see the package docstring)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from synapse_sdk.clients.backend.imports.dataset import check_options, import_dataset
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
    check_options(val_fraction, batch_size)
    return import_dataset(
        client, read_coco(annotations), folder, project=project, collection=collection, storage=storage,
        ground_truth=ground_truth, val_fraction=val_fraction, seed=seed, skip_missing=skip_missing,
        batch_size=batch_size, progress=progress,
    )  # fmt: skip
