"""What every dataset writer asks of a sample: its one image item, its size, its classes' ids, a safe name.

Each check raises :class:`~synapse_sdk.errors.AnnotationError` naming the item, so the export
fails that item alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Final

from synapse_sdk.errors import AnnotationError
from synapse_sdk.formats.dm import ImageAnnotations

if TYPE_CHECKING:
    from synapse_sdk.formats.writers import Sample

#: The splits a sample may name (None: no split layout).
SPLITS: Final = ("train", "val", "test")
#: What a sample without a split is called where a format needs a name (COCO and VOC index files).
NO_SPLIT: Final = "default"


def where(sample: Sample) -> str:
    """How messages name the sample: ``item 12 (000012.jpg)``."""
    return f"item {sample.id} ({sample.file_name})"


def class_ids(classes: Sequence[str]) -> dict[str, int]:
    """The export's classes numbered 0, 1, ... in their order (a name given twice keeps its first id)."""
    ids: dict[str, int] = {}
    for name in classes:
        ids.setdefault(name, len(ids))
    return ids


def class_id(sample: Sample, name: str, ids: dict[str, int], fmt: str) -> int:
    """The id of class ``name``, or an error naming the sample: the export's classes lack it."""
    if name not in ids:
        listed = ", ".join(map(repr, ids)) or "none"
        raise AnnotationError(
            f"{where(sample)}: class {name!r} is not one of the export's classes ({listed}); "
            f"{fmt} numbers the classes of the project configuration, so add it there"
        )
    return ids[name]


def image_item(sample: Sample, fmt: str) -> ImageAnnotations:
    """The sample's one image item (an empty one when it has none)."""
    images = sample.annotation.images
    if len(images) > 1:
        raise AnnotationError(
            f"{where(sample)}: {fmt} writes one image per item, the annotation has {len(images)} image items"
        )
    return images[0] if images else ImageAnnotations()


def size(sample: Sample, fmt: str) -> tuple[int, int]:
    """``(width, height)``, or an error: the format stores it (or normalises by it) and it is unknown."""
    if sample.width is None or sample.height is None or sample.width <= 0 or sample.height <= 0:
        raise AnnotationError(
            f"{where(sample)}: {fmt} needs the image size and the item's data file has none "
            f"(width {sample.width}, height {sample.height}); upload the image again to measure it"
        )
    return sample.width, sample.height


def split_name(sample: Sample) -> str | None:
    """The sample's split, checked to be one of ``train``, ``val``, ``test`` or None."""
    if sample.split is not None and sample.split not in SPLITS:
        raise AnnotationError(
            f"{where(sample)}: split {sample.split!r} is not one of {', '.join(SPLITS)} (or none)"
        )
    return sample.split


def stem(sample: Sample) -> str:
    """The file name without its extension (label files are named after it), checked to be a plain name."""
    name = sample.file_name
    if (
        not name
        or "/" in name
        or "\\" in name
        or "\0" in name
        or name.startswith(".")
        or (":" in name and PurePath(name).name != name)  # a drive, where paths have them
    ):
        raise AnnotationError(
            f"{where(sample)}: file_name {name!r} must be a plain file name like '000123.jpg' "
            "(no folders, not hidden)"
        )
    # PurePath(name).stem, without building a path: the name up to its last '.', unless that is
    # the name's first or last character.
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name
