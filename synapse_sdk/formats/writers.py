"""The dataset writers an export can end in: COCO, YOLO, Pascal VOC and ImageFolder, one contract.

An export hands each item to the writer as a :class:`Sample` (the image's output name, size,
split and its DM v2 annotation), copies the original image to :meth:`FormatWriter.image_path`,
and calls :meth:`FormatWriter.close` once every item is written::

    writer = get_writer("yolo")(root, classes=["car", "person"])
    for sample in samples:
        copy(image_of(sample), root / writer.image_path(sample))
        writer.write(sample)
    writer.close()

A writer keeps at most one sample in memory (COCO keeps its per-sample fragments on disk)
and continues from what a killed run left in ``root``: the export resumes by writing the
items that were not done (rewriting one is harmless) and ``close()`` gives the same bytes as
an uninterrupted run. Several processes may write different samples of one export at once (a
sharded export): writers that journal per-sample state (COCO, VOC) then take ``part=`` to journal
into a part of their own, and the ``close()`` of a writer of the same folder reads every part.
``docs/annotation-format.md`` says what each format keeps and loses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Final, Protocol

from synapse_sdk.errors import UsageError, did_you_mean
from synapse_sdk.formats.coco_writer import CocoWriter
from synapse_sdk.formats.dm import AnnotationData
from synapse_sdk.formats.imagefolder import ImageFolderWriter
from synapse_sdk.formats.voc import VocWriter
from synapse_sdk.formats.yolo import YoloWriter


@dataclass(frozen=True)
class Sample:
    """One image to write."""

    #: 0-based position of the item in the export's stream; stable across runs (the stream is ordered).
    index: int
    #: The platform item id as text.
    id: str
    #: The image's output file name, unique within the export (its stem too: YOLO and VOC name
    #: label files after it), e.g. ``"000123.jpg"``.
    file_name: str
    #: Pixels; None when unknown (writers that need it raise AnnotationError naming the item).
    width: int | None
    height: int | None
    #: ``"train"``, ``"val"``, ``"test"``, or None (no split layout).
    split: str | None
    #: DM v2, already validated.
    annotation: AnnotationData


class FormatWriter(Protocol):
    """Writes the samples of one export in one dataset format under ``root``."""

    #: The format's name, as ``extra_params.output_format`` gives it.
    name: ClassVar[str]

    def __init__(self, root: Path, classes: Sequence[str]) -> None:
        """A writer for the export folder ``root`` (continuing a killed run's partial state there);
        ``classes`` are the export's class names in the project configuration's order, one class
        id each for the whole export."""

    def image_path(self, sample: Sample) -> Path:
        """Where the sample's original image goes, relative to ``root``."""

    def write(self, sample: Sample) -> list[Path]:
        """Write the sample's label files (paths relative to ``root``); writing an index again
        replaces it. Raises AnnotationError for a sample the format cannot hold."""

    def flush(self) -> None:
        """Make what ``write`` kept of the samples so far survive a kill of this process: an export
        calls it before its manifest records those samples as done."""

    def close(self) -> list[Path]:
        """Write what depends on every sample (index files, class lists), the same bytes for the
        same samples however the run was interrupted; the paths written, relative to ``root``."""


#: Every writer, by format name.
WRITERS: Final[dict[str, type[FormatWriter]]] = {
    "coco": CocoWriter,
    "imagefolder": ImageFolderWriter,
    "voc": VocWriter,
    "yolo": YoloWriter,
}

#: The export's own per-item JSON output: an output format, but not a dataset writer.
_JSON: Final = "json"


def get_writer(name: str) -> type[FormatWriter]:
    """The writer class of format ``name``; a :class:`~synapse_sdk.errors.UsageError` naming the
    known formats (and the closest one) for any other name."""
    writer = WRITERS.get(name)
    if writer is not None:
        return writer
    known = sorted([*WRITERS, _JSON])
    if name == _JSON:
        raise UsageError(
            "extra_params.output_format: 'json' is the export's own per-item JSON, written without a "
            f"dataset writer; the dataset formats are {', '.join(sorted(WRITERS))}"
        )
    raise UsageError(
        f"extra_params.output_format: unknown format {name!r}; use one of {', '.join(known)}"
        + did_you_mean(name, known)
    )
