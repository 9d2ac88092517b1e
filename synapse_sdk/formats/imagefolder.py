"""ImageFolder (image classification by folder, as torchvision reads it) written from DM v2 and read back.

The layout: ``<split>/<class>/<name>`` (``<class>/<name>`` without splits); the folder is the
label, there is no label file. An image's class is its one tag (``tags``, our DM v2
extension), else the one class its annotation names (the top-level ``classification`` and the
classes of its annotations together). Read back, each image gets that class as its one tag.
``docs/annotation-format.md`` says what is kept and lost.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from synapse_sdk.errors import AnnotationError
from synapse_sdk.formats._files import IMAGE_EXTENSIONS
from synapse_sdk.formats._samples import SPLITS, class_id, class_ids, image_item, split_name, stem, where
from synapse_sdk.formats.datasets import FileImage, FolderDataset
from synapse_sdk.formats.dm import AnnotationData

if TYPE_CHECKING:
    from synapse_sdk.formats.writers import Sample


class ImageFolderWriter:
    """Writes an export as class folders; the images are the whole dataset (no label files)."""

    name: ClassVar[str] = "imagefolder"

    def __init__(self, root: Path, classes: Sequence[str]) -> None:
        self.root = Path(root)
        self._ids = class_ids(classes)

    def image_path(self, sample: Sample) -> Path:
        """``<split>/<class>/<file_name>``, or ``<class>/<file_name>`` without a split."""
        stem(sample)
        split = split_name(sample)
        label = image_class(sample)
        class_id(sample, label, self._ids, "ImageFolder")
        return Path(split, label, sample.file_name) if split else Path(label, sample.file_name)

    def write(self, sample: Sample) -> list[Path]:
        """Check the sample has one class; ImageFolder has no label files (the folder is the label)."""
        self.image_path(sample)
        return []

    def flush(self) -> None:
        """Nothing to do: each image's folder is its label."""

    def close(self) -> list[Path]:
        """Give every split folder the class folders of the others, so that tools numbering the classes
        by their sorted folder names (torchvision) number them alike in every split. No file is
        written: the folders are the index (tools want no other file among them)."""
        splits = [self.root / split for split in SPLITS if (self.root / split).is_dir()]
        used = {p.name for split in splits for p in split.iterdir() if p.is_dir()}
        for split in splits:
            for name in sorted(used):
                (split / name).mkdir(exist_ok=True)
        return []


def image_class(sample: Sample) -> str:
    """The sample's one class: its one tag, else the one class its annotation names; a folder-safe name."""
    item = image_item(sample, "ImageFolder")
    if item.tags:
        names = list(dict.fromkeys(tag.classification for tag in item.tags))
        what = "tags"
    else:
        listed = [name for names in sample.annotation.classification.values() for name in names]
        used = [annotation.classification for _, annotation in item.annotations()]
        names = list(dict.fromkeys([*listed, *used]))
        what = "classes"
    if len(names) != 1:
        found = ", ".join(map(repr, names)) or "none"
        raise AnnotationError(
            f"{where(sample)}: ImageFolder needs one class per image, found {len(names)} {what} ({found}); "
            "give the image exactly one tag"
        )
    label = names[0]
    if label in (".", "..") or "/" in label or "\\" in label or "\0" in label or label.startswith("."):
        raise AnnotationError(
            f"{where(sample)}: class {label!r} cannot name a folder (no '/', '\\', leading '.'); "
            "rename the class or export another format"
        )
    return label


def read_imagefolder(folder: str | os.PathLike[str]) -> FolderDataset:
    """Read an ImageFolder dataset: ``<class>/<image>``, or ``<split>/<class>/<image>`` when the
    top-level folders are ``train``, ``val`` or ``test`` (a mix of both is refused). Images in
    sub-folders of a class folder are of that class; hidden files and non-images are skipped.
    Class names are the class folders, sorted (torchvision's order). An image outside a class
    folder is an AnnotationError.
    """
    root = Path(folder)
    if not root.is_dir():
        raise AnnotationError(f"{root}: no such folder; an ImageFolder dataset is a folder of class folders")
    top = _folders(root)
    splits = [path.name for path in top if path.name in SPLITS]
    others = [path.name for path in top if path.name not in SPLITS]
    if splits and others:
        raise AnnotationError(
            f"{root}: folders {', '.join(splits)} look like splits and {', '.join(others)} like classes; "
            "keep either <split>/<class>/<image> or <class>/<image>"
        )
    split_layout = bool(splits)
    places = [(path, path.name) for path in top] if split_layout else [(root, None)]
    images: list[FileImage] = []
    names: set[str] = set()
    _refuse_loose_images(root)
    for place, split in places:
        if split is not None:
            _refuse_loose_images(place)
        for class_folder in _folders(place):
            names.add(class_folder.name)
            for path in sorted(class_folder.rglob("*")):
                relative = path.relative_to(root)
                if any(part.startswith(".") for part in relative.parts):
                    continue
                if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
                    images.append(ImageFolderImage(root, relative.as_posix(), split, class_folder.name))
    return FolderDataset("ImageFolder", root, images, sorted(names), ("tags",))


def _folders(place: Path) -> list[Path]:
    return sorted(p for p in place.iterdir() if p.is_dir() and not p.name.startswith("."))


def _refuse_loose_images(place: Path) -> None:
    for path in sorted(place.iterdir()):
        if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith("."):
            raise AnnotationError(
                f"{path}: an image outside a class folder; ImageFolder keeps each image in "
                f"{'<split>/' if place.name in SPLITS else ''}<class>/, the folder naming its class"
            )


class ImageFolderImage(FileImage):
    """An image of an ImageFolder dataset: its class folder is its one tag."""

    def __init__(self, root: Path, relative: str, split: str | None, label: str) -> None:
        super().__init__(root, relative, split)
        self.label = label

    def _annotation(self) -> AnnotationData:
        tag = {"id": "t1", "classification": self.label, "attrs": []}
        return AnnotationData.model_validate(
            {"classification": {"tags": [self.label]}, "images": [{"tags": [tag]}]}
        )
