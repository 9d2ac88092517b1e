"""The folder dataset readers an import can start from, by format name (COCO is a file: ``read_coco``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Final

from synapse_sdk.errors import UsageError, did_you_mean
from synapse_sdk.formats.datasets import ImageDataset
from synapse_sdk.formats.imagefolder import read_imagefolder
from synapse_sdk.formats.voc import read_voc
from synapse_sdk.formats.yolo import read_yolo

#: Every folder reader, by format name.
READERS: Final[dict[str, Callable[[str | os.PathLike[str]], ImageDataset]]] = {
    "imagefolder": read_imagefolder,
    "voc": read_voc,
    "yolo": read_yolo,
}


def read_folder(folder: str | os.PathLike[str], fmt: str) -> ImageDataset:
    """The dataset in ``folder``, read as format ``fmt`` (``yolo``, ``voc`` or ``imagefolder``)."""
    reader = READERS.get(fmt)
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise UsageError(
            f"format: unknown folder format {fmt!r}; use one of {known}" + did_you_mean(fmt, READERS)
        )
    return reader(folder)
