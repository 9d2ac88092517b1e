"""YOLO (the ultralytics layout) written from DM v2 and read back into it.

The layout: ``data.yaml`` (``path``, ``train``/``val``/``test`` image folders, ``names``),
``images/<split>/<name>`` and ``labels/<split>/<stem>.txt`` (``images/`` and ``labels/``
without splits). A label file has one object per line, coordinates normalised to 0..1 by the
image size: ``class cx cy w h`` for a box, ``class x1 y1 x2 y2 ...`` for a polygon. A sample
with polygons writes polygon rows only (its other boxes as 4-corner polygons: tools read a
file as boxes or as polygons), any other sample box rows. ``docs/annotation-format.md`` says
what is kept and lost.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

import yaml
from pydantic import ValidationError

from synapse_sdk.errors import AnnotationError
from synapse_sdk.formats._files import IMAGE_EXTENSIONS, LabelFiles, write_atomic
from synapse_sdk.formats._messages import annotation_error, show
from synapse_sdk.formats._samples import SPLITS, class_id, class_ids, image_item, size, split_name, stem
from synapse_sdk.formats.coco import _objects
from synapse_sdk.formats.datasets import FileImage, FolderDataset
from synapse_sdk.formats.dm import AnnotationData

if TYPE_CHECKING:
    from synapse_sdk.formats.writers import Sample

#: Decimals of a normalised coordinate (a millionth of the image: under a pixel up to 10^6 pixels).
_DIGITS: Final = 6
#: A normalised coordinate as written: ``_DIGITS`` decimals, fixed notation.
_FIXED: Final = f"%.{_DIGITS}f"
#: Decimals of the pixel coordinates read back (undoes the rounding of normalised values).
_PIXEL_DIGITS: Final = 2


class YoloWriter:
    """Writes an export as a YOLO dataset: a label file per image as it comes, ``data.yaml`` at the end."""

    name: ClassVar[str] = "yolo"

    def __init__(self, root: Path, classes: Sequence[str]) -> None:
        self.root = Path(root)
        self._ids = class_ids(classes)
        self._files = LabelFiles(self.root)

    def image_path(self, sample: Sample) -> Path:
        """``images/<split>/<file_name>``, or ``images/<file_name>`` without a split."""
        stem(sample)
        split = split_name(sample)
        return Path("images", split, sample.file_name) if split else Path("images", sample.file_name)

    def write(self, sample: Sample) -> list[Path]:
        """Write ``labels/<split>/<stem>.txt``: box rows, or polygon rows if the sample has polygons."""
        name = stem(sample)
        split = split_name(sample)
        width, height = size(sample, "YOLO")
        objects = list(_objects(image_item(sample, "YOLO")))
        segments = any(polygons for _, _, polygons, _, _ in objects)
        rows = []
        for label, box, polygons, _, _ in objects:
            number = class_id(sample, label, self._ids, "YOLO")
            if segments:
                x, y, w, h = box
                outlines = polygons or [[(x, y), (x + w, y), (x + w, y + h), (x, y + h)]]
                for outline in outlines:
                    flat = [v for px, py in outline for v in (px / width, py / height)]
                    rows.append(_row(number, flat))
            else:
                clipped = _clip(box, width, height)
                if clipped is not None:  # a box wholly outside the image has nothing to learn from
                    rows.append(_row(number, clipped))
        folder, file = (f"labels/{split}" if split else "labels"), f"{name}.txt"
        self._files.write(folder, file, "".join([f"{row}\n" for row in rows]).encode())
        return [Path(folder, file)]

    def flush(self) -> None:
        """Nothing to do: each label file is written whole by ``write``."""

    def close(self) -> list[Path]:
        """Write ``data.yaml``: the root, the image folder of each split under ``labels/``, the names.

        ``path`` is the export folder as written (ultralytics resolves a relative one against its
        own datasets folder, not against ``data.yaml``); a moved dataset needs it changed.
        """
        document: dict[str, Any] = {"path": str(self.root.resolve())}
        splits = [split for split in SPLITS if (self.root / "labels" / split).is_dir()]
        if splits:
            document.update((split, f"images/{split}") for split in splits)
        else:  # tools want both keys; without splits both name the one folder
            document.update(train="images", val="images")
        document["nc"] = len(self._ids)
        document["names"] = {number: name for name, number in self._ids.items()}
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        write_atomic(self.root / "data.yaml", text.encode())
        return [Path("data.yaml")]


def _clip(box: Sequence[float], width: int, height: int) -> list[float] | None:
    """A box as normalised ``cx cy w h``, cut to the image; None when nothing of it is inside."""
    x0, y0 = max(box[0], 0.0), max(box[1], 0.0)
    x1, y1 = min(box[0] + box[2], float(width)), min(box[1] + box[3], float(height))
    if x1 <= x0 or y1 <= y0:
        return None
    return [(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height]


def _row(number: int, values: Sequence[float]) -> str:
    """A label line: the class id, then the coordinates kept within 0..1 in fixed notation."""
    return " ".join([str(number), *[_FIXED % (0.0 if v < 0.0 else 1.0 if v > 1.0 else v) for v in values]])


def read_yolo(folder: str | os.PathLike[str]) -> FolderDataset:
    """Read a YOLO dataset (``data.yaml`` + ``images/`` + ``labels/``); images become DM v2 lazily.

    Each split named in ``data.yaml`` is an image folder (relative to the folder of ``data.yaml``,
    or to ``path`` when they are not there); a folder named by several splits has no split. A label
    sits where ultralytics looks for it: the image's path with its last ``images`` folder
    replaced by ``labels`` and the extension by ``.txt``; an image without one has no objects.
    Raises :class:`~synapse_sdk.errors.AnnotationError` naming the file (and line) at fault.
    """
    root = Path(folder)
    config = root / "data.yaml"
    if not config.is_file():
        raise AnnotationError(
            f"{root}: no data.yaml; a YOLO dataset has data.yaml (names, train/val/test image folders), "
            "images/<split>/ and labels/<split>/"
        )
    document = _load_yaml(config)
    if "kpt_shape" in document:
        raise AnnotationError(
            f"{config}: kpt_shape: YOLO pose datasets are not read (boxes and polygons are)"
        )
    names = _names(config, document.get("names"))
    base = _base(root, document)
    folders: dict[Path, list[str]] = {}
    for split in SPLITS:
        value = document.get(split)
        if value is None:
            continue
        place = base / value if isinstance(value, str) else None
        if place is None or not place.is_dir():
            raise AnnotationError(
                f"{config}: {split}: expected a folder of images under {base}, like 'images/{split}', "
                f"got {show(value)}"
            )
        folders.setdefault(place.resolve(), []).append(split)
    if not folders:
        raise AnnotationError(f"{config}: names no train, val or test image folder")
    images: list[FileImage] = []
    resolved = base.resolve()
    for place, splits in folders.items():
        if not place.is_relative_to(resolved):
            raise AnnotationError(f"{config}: {splits[0]}: {place} is outside the dataset folder {base}")
        only = splits[0] if len(splits) == 1 else None
        for path in sorted(place.rglob("*")):
            if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file() and not path.name.startswith("."):
                images.append(YoloImage(base, path.relative_to(resolved).as_posix(), only, names))
    return FolderDataset("YOLO", base, images, names, ("bounding_box", "polygon"))


class YoloImage(FileImage):
    """An image of a YOLO dataset; its label file is read (and checked) on first access."""

    def __init__(self, root: Path, relative: str, split: str | None, names: list[str]) -> None:
        super().__init__(root, relative, split)
        self._names = names

    @property
    def label_path(self) -> Path:
        """Where ultralytics looks for the image's labels: the last ``images`` folder becomes ``labels``."""
        parts = list(self.path.parts)
        if "images" in parts:
            parts[len(parts) - 1 - parts[::-1].index("images")] = "labels"
        return Path(*parts).with_suffix(".txt")

    def _annotation(self) -> AnnotationData:
        tools: dict[str, list[dict[str, Any]]] = {"bounding_box": [], "polygon": []}
        label = self.label_path
        if label.is_file():
            try:
                text = label.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise AnnotationError(f"{label}: cannot read the label file: {exc}") from exc
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    tool, item = self._parse(f"{label}:{number}", line, number)
                    tools[tool].append(item)
        classes = {
            tool: list(dict.fromkeys(a["classification"] for a in items)) for tool, items in tools.items()
        }
        data = {"classification": {t: c for t, c in classes.items() if c}, "images": [tools]}
        try:
            return AnnotationData.model_validate(data)
        except ValidationError as exc:  # the rows were checked; this would be a bug of ours
            raise annotation_error(str(label), exc) from exc

    def _parse(self, where: str, line: str, number: int) -> tuple[str, dict[str, Any]]:
        """One label line as a DM v2 box or polygon in pixels."""
        fields = line.split()
        expected = "'class cx cy w h' (a box) or 'class x1 y1 x2 y2 x3 y3 ...' (a polygon) of numbers"
        try:
            category = int(fields[0])
            values = [float(field) for field in fields[1:]]
        except ValueError:
            raise AnnotationError(f"{where}: expected {expected}, got {line.strip()!r}") from None
        if not all(math.isfinite(v) for v in values) or not (
            len(values) == 4 or (len(values) >= 6 and len(values) % 2 == 0)
        ):
            raise AnnotationError(f"{where}: expected {expected}, got {line.strip()!r}")
        if not 0 <= category < len(self._names):
            raise AnnotationError(
                f"{where}: class {category} is not one of data.yaml's names (0 to {len(self._names) - 1})"
            )
        name = self._names[category]
        width, height = self.width, self.height
        if len(values) == 4:
            cx, cy, w, h = values
            box = [(cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height]
            box = [round(v, _PIXEL_DIGITS) for v in box]
            if box[2] <= 0 or box[3] <= 0:
                raise AnnotationError(
                    f"{where}: a box of width and height > 0 expected, got {line.strip()!r}"
                )
            return "bounding_box", {"id": f"b{number}", "classification": name, "attrs": [], "data": box}
        points = [
            [round(values[i] * width, _PIXEL_DIGITS), round(values[i + 1] * height, _PIXEL_DIGITS)]
            for i in range(0, len(values), 2)
        ]
        return "polygon", {"id": f"p{number}", "classification": name, "attrs": [], "data": points}


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{path}: cannot read the file: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise AnnotationError(f"{path}: not valid YAML{line}: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(document, dict):
        raise AnnotationError(
            f"{path}: expected a mapping with 'names' and train/val/test, got {show(document)}"
        )
    return document


def _names(path: Path, names: object) -> list[str]:
    """The class names by id: a list, or a mapping ``0: name, 1: name, ...``."""
    expected = "a list of class names or a mapping 0: name, 1: name, ..."
    if isinstance(names, dict):
        if sorted(names) != list(range(len(names))):
            raise AnnotationError(
                f"{path}: names: expected ids 0 to {len(names) - 1}, got {show(list(names))}"
            )
        names = [names[i] for i in range(len(names))]
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise AnnotationError(f"{path}: names: expected {expected}, got {show(names)}")
    for number, name in enumerate(names):
        if names.index(name) != number:
            raise AnnotationError(
                f"{path}: names: {name!r} is the name of classes {names.index(name)} and {number}; "
                "DM v2 names classes, so names must be unique"
            )
    return names


def _base(root: Path, document: dict[str, Any]) -> Path:
    """The folder the split folders are relative to: the folder of ``data.yaml`` when they are there
    (a copied or moved dataset), else ``path`` when they are there."""
    candidates = [root]
    value = document.get("path")
    if isinstance(value, str) and value:
        candidates.append(Path(value) if Path(value).is_absolute() else root / value)
    named = [document[split] for split in SPLITS if document.get(split) is not None]
    for candidate in candidates:
        if all(isinstance(v, str) and (candidate / v).is_dir() for v in named):
            return candidate
    return root
