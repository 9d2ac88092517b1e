"""The COCO dataset writer: ``annotations/instances_<split>.json`` and ``images/<split>/``.

Each sample's COCO objects are built as it comes (the same objects as
:func:`~synapse_sdk.formats.coco.to_coco`: a box with the polygons and keypoints of its group,
or a lone polygon with the box around it) and appended to ``.coco/parts.jsonl``; ``close()``
streams every JSON file from those fragments, sorted by sample index (a few hundred samples in
memory at a time, never the whole document), then removes them. A writer
made with ``part`` (one of several processes of a sharded export) appends to
``.coco/parts-<part>.jsonl``; ``close()`` reads every part. Image
ids are ``index + 1``; annotation ids count from 1 in each file; category ids are 1..n in the
export's class order, the same in every file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, Final

from pydantic_core import from_json, to_json

from synapse_sdk.formats._files import (
    Journal,
    iter_journal,
    iter_journal_lines,
    journal_files,
    journal_part,
    remove_journal,
)
from synapse_sdk.formats._samples import NO_SPLIT, SPLITS, class_id, image_item, size, split_name, stem
from synapse_sdk.formats.coco import _area, _objects
from synapse_sdk.formats.dm import ImageAnnotations, Keypoint

if TYPE_CHECKING:
    from synapse_sdk.formats.writers import Sample

#: Where the per-sample fragments wait for ``close()``, relative to the export folder.
PARTS: Final = Path(".coco") / "parts.jsonl"
#: The COCO visibility of a keypoint without a ``visibility`` attribute: labelled and visible.
_VISIBLE: Final = 2
#: What every instances file starts with, before its images.
_INFO: Final = {"description": "Exported by synapse_sdk"}
#: Images (or annotations) written to a file at once while it is streamed.
_CHUNK: Final = 512
#: A journal line with keypoints holds this (JSON text outside strings, so never inside a name).
_HAS_KEYPOINTS: Final = b'"keypoints":'


class CocoWriter:
    """Writes an export as COCO instances files, one per split (``instances_default.json`` without)."""

    name: ClassVar[str] = "coco"

    def __init__(self, root: Path, classes: Sequence[str], part: str | None = None) -> None:
        self.root = Path(root)
        names = list(dict.fromkeys(classes))
        # A class "person/nose" beside a class "person" is a keypoint of category "person".
        self._keypoints: dict[str, list[str]] = {}
        categories: list[str] = []
        for name in names:
            owner, _, point = name.rpartition("/")
            if owner and owner in names and point:
                self._keypoints.setdefault(owner, []).append(point)
            else:
                categories.append(name)
        self._ids = {name: number for number, name in enumerate(categories)}
        self._parts = self.root / PARTS
        self._journal = Journal(journal_part(self._parts, part))

    def image_path(self, sample: Sample) -> Path:
        """``images/<split>/<file_name>``, or ``images/<file_name>`` without a split."""
        stem(sample)
        split = split_name(sample)
        return Path("images", split, sample.file_name) if split else Path("images", sample.file_name)

    def write(self, sample: Sample) -> list[Path]:
        """Keep the sample's COCO objects for ``close()`` (no label file is written per image).

        The journal record holds the JSON text of the image and of each annotation but its ``id``
        (which ``close()`` numbers): ``image``, the members of the image's object after ``id``;
        ``objects``, per annotation ``[category_id, the members after id]``; and, only when some
        object has keypoints, ``keypoints``: ``[[object position, [[name, x, y, v], ...]], ...]``
        (their ``keypoints`` and ``num_keypoints`` follow the export's keypoint names, known at the end).
        """
        stem(sample)
        split = split_name(sample)
        width, height = size(sample, "COCO")
        item = image_item(sample, "COCO")
        keypoints = _keypoints_by_box(item) if item.keypoint else {}
        image_id = sample.index + 1
        annotations: list[dict[str, Any]] = []
        points: list[list[Any]] = []
        for name, box, polygons, crowd, box_id in _objects(item):
            number = class_id(sample, name, self._ids, "COCO") + 1
            found = keypoints.get(box_id or "")
            if found:
                points.append(
                    [len(annotations), [[_point_name(p, name), *p.data, _visibility(p)] for p in found]]
                )
            annotations.append(
                {
                    "image_id": image_id,
                    "category_id": number,
                    "bbox": list(box),
                    "area": sum(_area(p) for p in polygons) if polygons else box[2] * box[3],
                    "iscrowd": int(crowd),
                    "segmentation": [[v for point in p for v in point] for p in polygons] if polygons else [],
                }
            )
        objects = [[a["category_id"], m] for a, m in zip(annotations, _members_of(annotations), strict=True)]
        image = {"file_name": sample.file_name, "width": width, "height": height}
        record: dict[str, Any] = {"split": split, "image": _members(image), "objects": objects}
        if points:
            record["keypoints"] = points
        self._journal.append(sample.index, record)
        return []

    def flush(self) -> None:
        """Hand the journal lines of the samples written so far to the OS (before they are recorded)."""
        self._journal.flush()

    def close(self) -> list[Path]:
        """Write ``annotations/instances_<split>.json`` for every split written, and remove the fragments.

        Each file holds exactly what ``json.dumps(document, ensure_ascii=False, separators=(",", ":"))``
        of the whole document would, streamed from the journal. A folder closed before, with nothing
        written since, keeps its files.
        """
        self._journal.close()
        folder = self.root / "annotations"
        has_records, categories = self._categories()
        existing = sorted(p.relative_to(self.root) for p in folder.glob("instances_*.json"))
        if not has_records and existing:
            remove_journal(self._parts)
            return existing
        splits = _write_instances(folder, iter_journal(self._parts), categories)
        for split in (*SPLITS, NO_SPLIT):
            if split not in splits:  # left by an earlier export into this folder
                (folder / f"instances_{split}.json").unlink(missing_ok=True)
        remove_journal(self._parts)
        return [(folder / f"instances_{split}.json").relative_to(self.root) for split in splits]

    def _categories(self) -> tuple[bool, list[dict[str, Any]]]:
        """Whether the journal holds any sample, and the categories 1..n: keypoint names from the
        classes, then as first met in the samples (only lines with a keypoint are parsed)."""
        points = {name: list(self._keypoints.get(name, [])) for name in self._ids}
        names = list(self._ids)
        has_records, has_keypoints = _scan(self._parts)
        for line in iter_journal_lines(self._parts) if has_keypoints else ():
            if _HAS_KEYPOINTS not in line:
                continue
            record = from_json(line, cache_strings="keys")
            for position, found in record["keypoints"]:
                known = points[names[record["objects"][position][0] - 1]]
                known.extend(p[0] for p in found if p[0] not in known)
        out = []
        for name, number in self._ids.items():
            category: dict[str, Any] = {"id": number + 1, "name": name, "supercategory": ""}
            if points[name]:
                category.update(keypoints=points[name], skeleton=[])
            out.append(category)
        return has_records, out


def _scan(journal: Path) -> tuple[bool, bool]:
    """Whether the journal (and its parts) holds a whole line, and whether a line has keypoints:
    one read in file order, none parsed (most exports have no keypoints: no ordered pass for them)."""
    has_records = False
    for file in journal_files(journal):
        with file.open("rb") as stream:
            for line in stream:
                if line.endswith(b"\n"):
                    has_records = True
                    if _HAS_KEYPOINTS in line:
                        return True, True
    return has_records, False


def _write_instances(
    folder: Path, records: Iterable[dict[str, Any]], categories: list[dict[str, Any]]
) -> list[str]:
    """Stream ``records`` (by sample index) into ``folder/instances_<split>.json``, one file per
    split met (``default`` when none is); the splits written, in split order."""
    with contextlib.ExitStack() as stack:
        files: dict[str, _InstancesFile] = {}
        for record in records:
            split = record["split"] or NO_SPLIT
            file = files.get(split)
            if file is None:
                file = files[split] = stack.enter_context(_InstancesFile(folder, split, categories))
            file.add(record)
        if not files:
            files[NO_SPLIT] = stack.enter_context(_InstancesFile(folder, NO_SPLIT, categories))
        splits = sorted(files, key=_split_order)
        for split in splits:
            files[split].finish()
    return splits


class _InstancesFile:
    """One ``instances_<split>.json`` being streamed: the images go straight into its temporary
    file, the annotations (which come after every image) into a second one, joined by ``finish()``
    and renamed into place whole (a kill half-way leaves only temporary files a rewrite replaces)."""

    def __init__(self, folder: Path, split: str, categories: list[dict[str, Any]]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._path = folder / f"instances_{split}.json"
        self._temporary = folder / f".instances_{split}.json.tmp"
        self._side = folder / f".instances_{split}.annotations.tmp"
        self._categories = categories
        self._points = {c["id"]: c.get("keypoints", []) for c in categories}
        self._next_id = 1
        head = f'{{"info":{_dumps(_INFO)},"licenses":[],"images":['
        self._images = _ListWriter(self._temporary.open("wb"), head)
        self._annotations = _ListWriter(self._side.open("wb+"), "")

    def __enter__(self) -> _InstancesFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._images.stream.close()
        self._annotations.stream.close()
        self._side.unlink(missing_ok=True)

    def add(self, record: dict[str, Any]) -> None:
        """One sample: its image (id = index + 1) and its annotations (ids from 1 in this file)."""
        self._images.add(f'{{"id":{record["index"] + 1},{record["image"]}}}')
        points = dict(record.get("keypoints", ()))
        for position, (category_id, members) in enumerate(record["objects"]):
            names = self._points[category_id]
            tail = f",{_members(_keypoints(names, points.get(position, [])))}" if names else ""
            self._annotations.add(f'{{"id":{self._next_id},{members}{tail}}}')
            self._next_id += 1

    def finish(self) -> None:
        """Write the annotations and the categories after the images, and rename the file into place."""
        self._images.end('],"annotations":[')
        self._annotations.end("")
        side, out = self._annotations.stream, self._images.stream
        side.seek(0)
        shutil.copyfileobj(side, out)
        out.write(f'],"categories":{_dumps(self._categories)}}}'.encode())
        out.close()
        os.replace(self._temporary, self._path)


class _ListWriter:
    """A JSON list written to ``stream`` (after ``head``) from the JSON texts of its elements."""

    def __init__(self, stream: IO[bytes], head: str) -> None:
        self.stream = stream
        self._pending: list[str] = []
        self._separator = ""
        stream.write(head.encode())

    def add(self, element: str) -> None:
        self._pending.append(element)
        if len(self._pending) >= _CHUNK:
            self._flush()

    def end(self, tail: str) -> None:
        """Write what is pending, then ``tail``."""
        self._flush()
        self.stream.write(tail.encode())

    def _flush(self) -> None:
        if self._pending:
            self.stream.write(f"{self._separator}{','.join(self._pending)}".encode())
            self._separator = ","
            self._pending.clear()


#: Encodes JSON as the instances files hold it: compact, non-ASCII kept (``json.dumps`` with these
#: arguments builds the same encoder on every call).
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _dumps(value: Any) -> str:
    """JSON text as the instances files hold it."""
    return _ENCODER.encode(value)


def _members(value: dict[str, Any]) -> str:
    """An object's JSON text without its braces: ``{"id":1,<members>}`` is then the same text
    ``_dumps`` gives the object with ``id`` first."""
    return _dumps(value)[1:-1]


def _members_of(annotations: list[dict[str, Any]]) -> list[str]:
    """:func:`_members` of each annotation, encoded in one call: their values are numbers and
    lists of numbers, never text, so ``},{`` in the list's JSON is only ever between two of them."""
    if not annotations:
        return []
    return _dumps_numbers(annotations)[2:-2].split("},{")


def _dumps_numbers(value: Any) -> str:
    """:func:`_dumps` of a value holding no text (keys aside): pydantic's encoder, a few times faster.

    It writes every number as ``json.dumps`` does but those under 1e-4 in size (``0.00005`` and
    ``1e-9`` where Python writes ``5e-05`` and ``1e-09``), so a text with ``e-`` or ``0.0000`` in
    it (which Python never writes for such a number) is made by ``_dumps`` instead.
    """
    text = to_json(value).decode()
    return _dumps(value) if "e-" in text or "0.0000" in text else text


def _keypoints(names: list[str], found: list[list[Any]]) -> dict[str, Any]:
    """An annotation's ``keypoints`` (``[x, y, v]`` per name of its category, zeros for those it
    lacks) and ``num_keypoints`` (how many are labelled)."""
    flat: list[float] = [0] * (3 * len(names))
    for name, x, y, visibility in found:
        flat[3 * names.index(name) : 3 * names.index(name) + 3] = [x, y, visibility]
    return {"keypoints": flat, "num_keypoints": sum(1 for v in flat[2::3] if v > 0)}


def _split_order(split: str) -> tuple[int, str]:
    order = (*SPLITS, NO_SPLIT)
    return (order.index(split), split) if split in order else (len(order), split)


def _keypoints_by_box(image: ImageAnnotations) -> dict[str, list[Keypoint]]:
    """The keypoints of each box's group (the group holding that box alone, as ``to_coco`` pairs polygons)."""
    boxes = {box.id for box in image.bounding_box}
    points = {point.id: point for point in image.keypoint}
    out: dict[str, list[Keypoint]] = {}
    claimed: set[str] = set()
    for group in image.group:
        members = [m for m in group.data if m in boxes]
        if len(members) == 1 and members[0] not in out:
            out[members[0]] = [points[m] for m in group.data if m in points and m not in claimed]
            claimed.update(point.id for point in out[members[0]])
    return out


def _point_name(point: Keypoint, category: str) -> str:
    """``person/nose`` of category ``person`` is keypoint ``nose``; a class without the prefix is the name."""
    prefix = f"{category}/"
    return (
        point.classification[len(prefix) :]
        if point.classification.startswith(prefix)
        else point.classification
    )


def _visibility(point: Keypoint) -> int:
    """COCO's ``v``: the ``visibility`` attribute when it is 1 or 2, else 2 (labelled and visible)."""
    for attr in point.attrs:
        if attr.name == "visibility" and attr.value in (1, 2) and not isinstance(attr.value, bool):
            return int(attr.value)
    return _VISIBLE
