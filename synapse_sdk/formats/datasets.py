"""What an import reads: a dataset of images, each with its file, size, split and DM v2 annotation.

:class:`ImageDataset` and :class:`DatasetImage` are the shape the platform import consumes;
:func:`~synapse_sdk.formats.coco.read_coco` returns one, and so do the folder readers
(:func:`~synapse_sdk.formats.yolo.read_yolo`, :func:`~synapse_sdk.formats.voc.read_voc`,
:func:`~synapse_sdk.formats.imagefolder.read_imagefolder`), built on :class:`FileImage` and
:class:`FolderDataset` here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol

from synapse_sdk.formats._files import image_size
from synapse_sdk.formats.dm import AnnotationData


class DatasetImage(Protocol):
    """One image of a dataset: its id in the dataset, file, size, split and annotation."""

    @property
    def id(self) -> int | str:
        """The image's id in the dataset (a COCO id, a VOC item id, a relative path)."""

    @property
    def file_name(self) -> str:
        """The image file's path, relative to the folder the dataset's images are read from."""

    @property
    def width(self) -> int:
        """Pixels."""

    @property
    def height(self) -> int:
        """Pixels."""

    @property
    def split(self) -> str | None:
        """``train``, ``val`` or ``test`` when the dataset's layout says so, else None."""

    @property
    def annotation(self) -> AnnotationData:
        """The image's annotations as DM v2 (one image item); AnnotationError when they are broken."""


class ImageDataset(Protocol):
    """A dataset to import: its images (``len()``, iteration) and its class names."""

    @property
    def format(self) -> str:
        """The format's name as messages give it: ``COCO``, ``YOLO``, ``VOC``, ``ImageFolder``."""

    @property
    def path(self) -> Path:
        """The file or folder the dataset was read from (messages name it)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[DatasetImage]: ...

    @property
    def category_names(self) -> list[str]:
        """The class names, in the dataset's order."""

    @property
    def classification(self) -> dict[str, list[str]]:
        """The class names every image may use, per DM v2 tool (a project's label schema)."""


class FileImage:
    """An image file of a folder dataset; the size is read from the file's header when first asked.

    Subclasses build :attr:`annotation` (:meth:`_annotation`) and may know the size otherwise
    (:meth:`_size`).
    """

    def __init__(
        self, root: Path, relative: str, split: str | None, image_id: int | str | None = None
    ) -> None:
        self.id: int | str = relative if image_id is None else image_id
        self.file_name = relative
        self.path = root / relative
        self.split = split

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, file_name={self.file_name!r}, split={self.split!r})"

    @cached_property
    def _dimensions(self) -> tuple[int, int]:
        return self._size()

    @property
    def width(self) -> int:
        """Pixels."""
        return self._dimensions[0]

    @property
    def height(self) -> int:
        """Pixels."""
        return self._dimensions[1]

    @cached_property
    def annotation(self) -> AnnotationData:
        """The image's annotations as DM v2, built on first access (AnnotationError naming the file)."""
        return self._annotation()

    def _size(self) -> tuple[int, int]:
        return image_size(self.path)

    def _annotation(self) -> AnnotationData:
        raise NotImplementedError


class FolderDataset:
    """A dataset read from a folder: its images in reading order, its class names and label schema."""

    def __init__(
        self,
        fmt: str,
        path: Path,
        images: Sequence[FileImage],
        category_names: Sequence[str],
        tools: Sequence[str],
        *,
        complete: bool = True,
    ) -> None:
        self.format = fmt
        self.path = path
        self._images = list(images)
        self._names = list(category_names)
        self._tools = tuple(tools)
        # When the format's class list may miss classes its labels use (VOC without labelmap.txt),
        # the labels' classes are added on first use.
        self._complete = complete

    def __repr__(self) -> str:
        return f"FolderDataset({self.format}, {str(self.path)!r}, {len(self)} images)"

    def __len__(self) -> int:
        return len(self._images)

    def __iter__(self) -> Iterator[FileImage]:
        return iter(self._images)

    @property
    def category_names(self) -> list[str]:
        """The class names in the dataset's order (then, for an incomplete list, as the labels use them)."""
        if not self._complete:
            names = dict.fromkeys(self._names)
            for image in self._images:
                names.update(
                    dict.fromkeys(n for values in image.annotation.classification.values() for n in values)
                )
            self._names, self._complete = list(names), True
        return list(self._names)

    @property
    def classification(self) -> dict[str, list[str]]:
        """Every class name under each tool the format's annotations use."""
        names = self.category_names
        return {tool: list(names) for tool in self._tools}
