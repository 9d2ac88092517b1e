"""Pascal VOC (detection) written from DM v2 and read back into it.

The layout: ``JPEGImages/<name>``, one ``Annotations/<stem>.xml`` per image (its size and an
``<object>`` per box: ``<name>`` and ``<bndbox>`` of whole pixels, 1-based and inclusive as the
VOC devkit counts them), ``ImageSets/Main/<split>.txt`` listing the image stems of a split
(``default.txt`` without splits) and ``labelmap.txt`` naming the classes. The XML is untrusted
when read: a document type or entity declaration is refused before parsing.
``docs/annotation-format.md`` says what is kept and lost.
"""

from __future__ import annotations

import itertools
import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, Final
from xml.parsers import expat
from xml.sax.saxutils import escape

from synapse_sdk.errors import AnnotationError, UsageError
from synapse_sdk.formats._files import (
    IMAGE_EXTENSIONS,
    Journal,
    LabelFiles,
    iter_journal,
    journal_part,
    remove_journal,
    write_atomic,
)
from synapse_sdk.formats._samples import (
    NO_SPLIT,
    SPLITS,
    class_id,
    class_ids,
    image_item,
    size,
    split_name,
    stem,
)
from synapse_sdk.formats.coco import _objects
from synapse_sdk.formats.datasets import FileImage, FolderDataset
from synapse_sdk.formats.dm import AnnotationData

if TYPE_CHECKING:
    from synapse_sdk.formats.writers import Sample

#: The per-sample journal (index, split, stem) ``close()`` builds the image sets from.
JOURNAL: Final = Path(".voc") / "samples.jsonl"
#: The first line of ``labelmap.txt`` (the layout datumaro and CVAT read).
_LABELMAP_HEADER: Final = "# label:color_rgb:parts:actions\n"
#: Object flags VOC stores as 0/1 elements, kept as DM v2 attributes of the box.
_FLAGS: Final = ("truncated", "difficult", "occluded")
#: An annotation file up to its objects, then an object and the end: the bytes ElementTree gives
#: the same elements (``ET.indent`` by two spaces, ``tostring`` with the XML declaration), written
#: as text. Fields are whole numbers or text ``escape``-d as ElementTree escapes text.
_HEAD: Final = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    "<annotation>\n"
    "  <folder>JPEGImages</folder>\n"
    "  {filename}\n"
    "  <size>\n"
    "    <width>{width}</width>\n"
    "    <height>{height}</height>\n"
    "    <depth>3</depth>\n"
    "  </size>\n"
    "  <segmented>0</segmented>\n"
)
_OBJECT: Final = (
    "  <object>\n"
    "    {name}\n"
    "    <pose>{pose}</pose>\n"
    "    <truncated>{truncated}</truncated>\n"
    "    <difficult>{difficult}</difficult>\n"
    "    <occluded>{occluded}</occluded>\n"
    "    <bndbox>\n"
    "      <xmin>{xmin}</xmin>\n"
    "      <ymin>{ymin}</ymin>\n"
    "      <xmax>{xmax}</xmax>\n"
    "      <ymax>{ymax}</ymax>\n"
    "    </bndbox>\n"
    "  </object>\n"
)
_TAIL: Final = "</annotation>\n"


class VocWriter:
    """Writes an export as Pascal VOC: an XML file per image as it comes, the image sets at the end."""

    name: ClassVar[str] = "voc"

    def __init__(self, root: Path, classes: Sequence[str], part: str | None = None) -> None:
        """``part``: this writer is one of several processes writing the export (its own journal part)."""
        self.root = Path(root)
        self._ids = class_ids(classes)
        for name in self._ids:
            if ":" in name or "\n" in name:
                raise UsageError(
                    f"classes: {name!r}: VOC's labelmap.txt separates fields with ':' and lines with "
                    "newlines, so a class name cannot hold either; rename the class"
                )
        self._journal = self.root / JOURNAL
        self._part = Journal(journal_part(self._journal, part))
        self._files = LabelFiles(self.root)

    def image_path(self, sample: Sample) -> Path:
        """``JPEGImages/<file_name>`` (VOC keeps every split's images in one folder)."""
        stem(sample)
        split_name(sample)
        return Path("JPEGImages", sample.file_name)

    def write(self, sample: Sample) -> list[Path]:
        """Write ``Annotations/<stem>.xml``: the image's size and an ``<object>`` per box."""
        name = stem(sample)
        split = split_name(sample)
        width, height = size(sample, "VOC")
        item = image_item(sample, "VOC")
        boxes = {box.id: box for box in item.bounding_box}
        parts = [_HEAD.format(filename=_element("filename", sample.file_name), width=width, height=height)]
        for label, box, _, _, box_id in _objects(item):
            class_id(sample, label, self._ids, "VOC")
            corners = _corners(box, width, height)
            if corners is None:  # wholly outside the image
                continue
            attrs = {a.name: a.value for a in boxes[box_id].attrs} if box_id else {}
            pose = attrs.get("pose")
            xmin, ymin, xmax, ymax = corners
            parts.append(
                _OBJECT.format(
                    name=_element("name", label),
                    pose=escape(pose) if isinstance(pose, str) and pose else "Unspecified",
                    truncated="1" if attrs.get("truncated") else "0",
                    difficult="1" if attrs.get("difficult") else "0",
                    occluded="1" if attrs.get("occluded") else "0",
                    xmin=xmin,
                    ymin=ymin,
                    xmax=xmax,
                    ymax=ymax,
                )
            )
        parts.append(_TAIL)
        file = f"{name}.xml"
        # As ElementTree encodes: what UTF-8 cannot hold (a lone surrogate) as a character reference.
        self._files.write("Annotations", file, "".join(parts).encode("utf-8", "xmlcharrefreplace"))
        self._part.append(sample.index, {"split": split, "stem": name})
        return [Path("Annotations", file)]

    def flush(self) -> None:
        """Hand the journal lines of the samples written so far to the OS (before they are recorded)."""
        self._part.flush()

    def close(self) -> list[Path]:
        """Write ``ImageSets/Main/<split>.txt`` (stems by sample index) and ``labelmap.txt``.

        The journal's records stream into the image sets (the journal is never held in memory).
        A folder closed before, with nothing written since, keeps its files.
        """
        self._part.close()
        sets = self.root / "ImageSets" / "Main"
        records = iter_journal(self._journal)
        first = next(records, None)
        existing = sorted(p.relative_to(self.root) for p in sets.glob("*.txt"))
        if first is None and existing:
            remove_journal(self._journal)
            return [*existing, Path("labelmap.txt")]
        order = (*SPLITS, NO_SPLIT)
        streams: dict[str, IO[bytes]] = {}
        try:
            if first is not None:
                sets.mkdir(parents=True, exist_ok=True)
                for record in itertools.chain((first,), records):
                    split = record["split"] or NO_SPLIT
                    stream = streams.get(split)
                    if stream is None:
                        stream = streams[split] = (sets / f".{split}.txt.tmp").open("wb")
                    stream.write(f"{record['stem']}\n".encode())
        finally:
            for stream in streams.values():
                stream.close()
        written = []
        for split in order:
            path = sets / f"{split}.txt"
            if split in streams:  # whole: renamed into place once written
                os.replace(sets / f".{split}.txt.tmp", path)
                written.append(path.relative_to(self.root))
            else:  # left by an earlier export into this folder
                path.unlink(missing_ok=True)
        labelmap = _LABELMAP_HEADER + "".join(f"{name}:::\n" for name in self._ids)
        write_atomic(self.root / "labelmap.txt", labelmap.encode())
        remove_journal(self._journal)
        return [*written, Path("labelmap.txt")]


def _element(tag: str, text: str) -> str:
    """A text element as ElementTree writes it: ``<tag>text</tag>``, ``<tag />`` when empty."""
    return f"<{tag}>{escape(text)}</{tag}>" if text else f"<{tag} />"


def _corners(box: Sequence[float], width: int, height: int) -> tuple[int, int, int, int] | None:
    """``[x, y, w, h]`` as VOC's 1-based inclusive whole-pixel ``xmin, ymin, xmax, ymax``, cut to the
    image; None when nothing of it is inside."""
    left, top = _round(box[0]), _round(box[1])
    xmin = max(1, left + 1)
    ymin = max(1, top + 1)
    xmax = min(width, max(_round(box[0] + box[2]), left + 1))
    ymax = min(height, max(_round(box[1] + box[3]), top + 1))
    return None if xmax < xmin or ymax < ymin else (xmin, ymin, xmax, ymax)


def _round(value: float) -> int:
    """Half up, unlike ``round`` (which rounds half to even)."""
    return math.floor(value + 0.5)


def read_voc(folder: str | os.PathLike[str]) -> FolderDataset:
    """Read a Pascal VOC dataset; each image's XML becomes DM v2 boxes lazily.

    The images are those ``ImageSets/Main/<split>.txt`` lists (``train``, ``val``, ``test``
    keep their split; ``trainval`` is read only without ``train`` and ``val``; any other list,
    like ``default``, has no split), else every ``Annotations/*.xml``. Class names come from
    ``labelmap.txt`` when present, then from the objects. Raises
    :class:`~synapse_sdk.errors.AnnotationError` naming the file and line at fault.
    """
    root = Path(folder)
    if not (root / "Annotations").is_dir():
        raise AnnotationError(
            f"{root}: no Annotations folder; a VOC dataset has Annotations/<id>.xml, JPEGImages/ and "
            "ImageSets/Main/<split>.txt"
        )
    pictures: dict[str, str] = {}
    if (root / "JPEGImages").is_dir():
        for path in sorted((root / "JPEGImages").iterdir()):
            if path.suffix.lower() in IMAGE_EXTENSIONS:
                pictures.setdefault(path.stem, path.name)
    images: list[FileImage] = []
    for item, split in _items(root):
        relative = f"JPEGImages/{pictures.get(item, item + '.jpg')}"
        images.append(VocImage(root, relative, split, item))
    names = _labelmap(root / "labelmap.txt")
    return FolderDataset("VOC", root, images, names, ("bounding_box",), complete=False)


def _items(root: Path) -> list[tuple[str, str | None]]:
    """The item ids and their splits, in list order, each id once (its first split wins)."""
    sets = root / "ImageSets" / "Main"
    lists = {p.stem: p for p in sets.glob("*.txt") if "_" not in p.stem} if sets.is_dir() else {}
    if not lists:
        return [(p.stem, None) for p in sorted((root / "Annotations").glob("*.xml"))]
    if "train" in lists or "val" in lists:
        lists.pop("trainval", None)
    order = [s for s in SPLITS if s in lists] + sorted(s for s in lists if s not in SPLITS)
    seen: dict[str, str | None] = {}
    for name in order:
        split = name if name in SPLITS else None
        for number, line in enumerate(lists[name].read_text(encoding="utf-8").splitlines(), start=1):
            item = line.split()[0] if line.strip() and not line.startswith("#") else ""
            if item in ("", ".", "..") or "/" in item or "\\" in item:
                if item:
                    raise AnnotationError(
                        f"{lists[name]}:{number}: {item!r} is not an image id (a file name without "
                        "extension, no folders)"
                    )
                continue
            seen.setdefault(item, split)
    return list(seen.items())


def _labelmap(path: Path) -> list[str]:
    """The class names of ``labelmap.txt`` (``name:color:parts:actions`` lines), in order."""
    if not path.is_file():
        return []
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            names.append(line.split(":")[0].strip())
    return list(dict.fromkeys(n for n in names if n))


class VocImage(FileImage):
    """An image of a VOC dataset; its XML file is parsed (and checked) on first access."""

    def __init__(self, root: Path, relative: str, split: str | None, item: str) -> None:
        super().__init__(root, relative, split, image_id=item)
        self.xml_path = root / "Annotations" / f"{item}.xml"

    @cached_property
    def _document(self) -> tuple[ET.Element, dict[ET.Element, int]] | None:
        return parse_xml(self.xml_path) if self.xml_path.is_file() else None

    def _size(self) -> tuple[int, int]:
        if self._document is not None:
            element = self._document[0].find("size")
            if element is not None:
                width, height = element.findtext("width", "").strip(), element.findtext("height", "").strip()
                if width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0:
                    return int(width), int(height)
        return super()._size()

    def _annotation(self) -> AnnotationData:
        boxes: list[dict[str, Any]] = []
        if self._document is not None:
            root, lines = self._document
            if root.tag != "annotation":
                raise AnnotationError(
                    f"{self.xml_path}:1: expected an <annotation> document, got <{root.tag}>"
                )
            for number, obj in enumerate(root.iterfind("object"), start=1):
                where = f"{self.xml_path}:{lines.get(obj, 0)}: object {number}"
                boxes.append(_box(where, obj, number))
        classes = list(dict.fromkeys(box["classification"] for box in boxes))
        data = {
            "classification": {"bounding_box": classes} if classes else {},
            "images": [{"bounding_box": boxes}],
        }
        return AnnotationData.model_validate(data)


def _box(where: str, obj: ET.Element, number: int) -> dict[str, Any]:
    """One ``<object>`` as a DM v2 box: ``[xmin - 1, ymin - 1, xmax - xmin + 1, ymax - ymin + 1]``."""
    name = (obj.findtext("name") or "").strip()
    if not name:
        raise AnnotationError(f"{where}: name: expected the class name, got none")
    values = []
    for key in ("xmin", "ymin", "xmax", "ymax"):
        text = obj.findtext(f"bndbox/{key}")
        try:
            value = float(text or "")
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise AnnotationError(f"{where}: bndbox/{key}: expected a number, got {text!r}")
        values.append(value)
    xmin, ymin, xmax, ymax = values
    if xmax < xmin or ymax < ymin:
        raise AnnotationError(f"{where}: bndbox: expected xmax >= xmin and ymax >= ymin, got {values}")
    attrs: list[dict[str, Any]] = [
        {"name": f, "value": True} for f in _FLAGS if obj.findtext(f, "").strip() == "1"
    ]
    pose = (obj.findtext("pose") or "").strip()
    if pose and pose != "Unspecified":
        attrs.append({"name": "pose", "value": pose})
    data = [_number(xmin - 1), _number(ymin - 1), _number(xmax - xmin + 1), _number(ymax - ymin + 1)]
    return {"id": f"b{number}", "classification": name, "attrs": attrs, "data": data}


def _number(value: float) -> float | int:
    """Whole numbers as ints (VOC's are), so the DM v2 data reads as the file does."""
    return int(value) if value.is_integer() else value


def parse_xml(path: Path) -> tuple[ET.Element, dict[ET.Element, int]]:
    """An untrusted XML file as an element tree, with each element's line; DTDs and entities refused."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AnnotationError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise AnnotationError(
            f"{path}: has a document type or entity declaration; these are refused in untrusted XML "
            "(VOC annotation files need none), remove it"
        )
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    lines: dict[ET.Element, int] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        lines[builder.start(tag, attrs)] = parser.CurrentLineNumber

    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise AnnotationError(
            f"{path}:{exc.lineno}: not well-formed XML: {expat.ErrorString(exc.code)}"
        ) from exc
    return builder.close(), lines
