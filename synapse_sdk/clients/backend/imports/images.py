"""The images of a COCO file to import, each with its file and DM v2 annotation; all problems at once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import AnnotationError, UsageError

if TYPE_CHECKING:
    from synapse_sdk.formats.coco import CocoDataset

#: Problem lines an error shows before "... and N more".
_SHOWN: Final = 20


@dataclass
class SourceImage:
    """One image of the COCO file to import: where its file is and its annotation as DM v2 data."""

    coco_id: int | str
    file_name: str
    path: Path
    width: int
    height: int
    data: dict[str, Any]
    annotations: int


def check_images(
    dataset: CocoDataset, folder: Path, skip_missing: bool
) -> tuple[list[SourceImage], list[str]]:
    """Every image with its file and DM v2 annotation; all problems at once, before any write."""
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
            SourceImage(image.id, image.file_name, path, image.width, image.height, dump(annotation), boxes)
        )
    if broken:
        advice = "nothing was imported: fix the COCO file and run the import again"
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


def problems(lines: list[str], summary: str, advice: str) -> str:
    """One problem per line (at most ``_SHOWN``), the advice on the last one; one line for one problem."""
    if len(lines) == 1:
        return f"{lines[0]}; {advice}"
    shown = lines if len(lines) <= _SHOWN else [*lines[:_SHOWN], f"... and {len(lines) - _SHOWN} more"]
    return "\n".join([*shown, f"{summary}; {advice}"])
