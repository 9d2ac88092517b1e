"""``import_dataset``: any dataset's images into a project, resumable (see the package docstring);
``import_folder`` reads a YOLO, VOC or ImageFolder folder and imports it."""

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
    from synapse_sdk.formats.datasets import ImageDataset


def check_options(val_fraction: float, batch_size: int) -> None:
    """Refuse options that cannot work, before anything is read or written."""
    if not 0 <= val_fraction < 1:
        raise UsageError(f"val_fraction: expected a number from 0 to below 1, like 0.2, got {val_fraction!r}")
    if batch_size < 1:
        raise UsageError(f"batch_size: expected a positive number of images, like 100, got {batch_size!r}")


def import_dataset(
    client: BackendClient,
    dataset: ImageDataset,
    images_dir: str | os.PathLike[str],
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
    """Import ``dataset`` (its images' ``file_name`` relative to ``images_dir``) into project ``project``.

    What :func:`~synapse_sdk.clients.backend.imports.import_coco` does for a COCO file, for any
    :class:`~synapse_sdk.formats.datasets.ImageDataset`. With ``ground_truth``, an image whose
    dataset layout gives it a split keeps it; the others are split train/val by ``seed``.
    """
    folder = Path(images_dir)
    check_options(val_fraction, batch_size)
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


def import_folder(
    client: BackendClient,
    folder: str | os.PathLike[str],
    *,
    format: str,
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
    """Import a YOLO, VOC or ImageFolder dataset folder (``format``: ``yolo``, ``voc``, ``imagefolder``).

    Its images and labels are read from the folder (:func:`~synapse_sdk.formats.read_folder`);
    the splits its layout holds become the ground-truth splits. Otherwise as
    :func:`import_dataset`.
    """
    from synapse_sdk.formats.readers import read_folder

    root = Path(folder)
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder; give the {format} dataset's folder")
    check_options(val_fraction, batch_size)
    dataset = read_folder(root, format)
    return import_dataset(
        client, dataset, dataset.path, project=project, collection=collection, storage=storage,
        ground_truth=ground_truth, val_fraction=val_fraction, seed=seed, skip_missing=skip_missing,
        batch_size=batch_size, progress=progress,
    )  # fmt: skip
