"""The images of a dataset to import, each with its file and DM v2 annotation; all problems at once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import AnnotationError, UsageError

if TYPE_CHECKING:
    from synapse_sdk.formats.datasets import ImageDataset
    from synapse_sdk.formats.dm import ImageAnnotations

#: Problem lines an error shows before "... and N more".
_SHOWN: Final = 20


@dataclass
class SourceImage:
    """One image of the dataset to import: where its file is, its annotation as DM v2 data, its split."""

    #: The image's id in the dataset (a COCO id, a VOC item id, a relative path).
    source_id: int | str
    file_name: str
    path: Path
    width: int
    height: int
    data: dict[str, Any]
    #: Objects (boxes, polygons outside a box's group) and tags carried into the task.
    annotations: int
    #: The dataset's format as messages name it (``COCO``, ``YOLO``...).
    format: str = "COCO"
    #: The split the dataset's layout gives the image (None: chosen by seed for ground truth).
    split: str | None = None

    @property
    def shown_id(self) -> str:
        """The id as messages show it: ``7``, ``'images/train/a.jpg'``."""
        return str(self.source_id) if isinstance(self.source_id, int) else repr(self.source_id)

    @property
    def label(self) -> str:
        """How messages name the image: ``COCO image 7``, ``YOLO image 'images/train/a.jpg'``."""
        return f"{self.format} image {self.shown_id}"

    @property
    def meta_key(self) -> str:
        """The data unit's meta key holding the image's id in the dataset: ``coco_image_id``..."""
        return f"{self.format.lower()}_image_id"


def check_images(
    dataset: ImageDataset, folder: Path, skip_missing: bool
) -> tuple[list[SourceImage], list[str]]:
    """Every image with its file and DM v2 annotation; all problems at once, before any write.

    A missing file is reported as missing (and skipped with ``skip_missing``) before its
    annotation is read: folder formats need the image itself to place their labels.
    """
    from synapse_sdk.formats.dm import dump

    images: list[SourceImage] = []
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
        if not path.is_file():
            shown = image.id if isinstance(image.id, int) else repr(image.id)
            missing.append(f"{path}: no such file ({dataset.format} image {shown})")
            continue
        try:
            annotation = image.annotation
            width, height = image.width, image.height
        except AnnotationError as exc:
            broken.append(str(exc))
            continue
        item = annotation.images[0] if annotation.images else None
        objects = _objects(item) if item is not None else 0
        images.append(
            SourceImage(
                image.id,
                image.file_name,
                path,
                width,
                height,
                dump(annotation),
                objects,
                format=dataset.format,
                split=image.split,
            )  # fmt: skip
        )
    if broken:
        advice = f"nothing was imported: fix the {dataset.format} labels and run the import again"
        raise AnnotationError(
            problems(broken, f"{dataset.path}: {len(broken)} image(s) are broken", advice), broken
        )
    if missing and not skip_missing:
        total = len(images) + len(missing)
        advice = (
            f"nothing was imported (skip_missing=True, or --skip-missing, imports the other {len(images)})"
        )
        raise UsageError(
            problems(missing, f"{len(missing)} of {total} image files are missing from {folder}", advice)
        )
    return images, missing


def _objects(item: ImageAnnotations) -> int:
    """The objects of an image item as COCO counts them (a box with its group's polygons is one), and tags."""
    from synapse_sdk.formats.coco import _objects as coco_objects

    return sum(1 for _ in coco_objects(item)) + len(item.tags)


def problems(lines: list[str], summary: str, advice: str) -> str:
    """One problem per line (at most ``_SHOWN``), the advice on the last one; one line for one problem."""
    if len(lines) == 1:
        return f"{lines[0]}; {advice}"
    shown = lines if len(lines) <= _SHOWN else [*lines[:_SHOWN], f"... and {len(lines) - _SHOWN} more"]
    return "\n".join([*shown, f"{summary}; {advice}"])
