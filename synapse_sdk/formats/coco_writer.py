"""The COCO dataset writer: ``annotations/instances_<split>.json`` and ``images/<split>/``.

Each sample's COCO objects are built as it comes (the same objects as
:func:`~synapse_sdk.formats.coco.to_coco`: a box with the polygons and keypoints of its group,
or a lone polygon with the box around it) and appended to ``.coco/parts.jsonl``; ``close()``
builds every JSON file from those fragments, sorted by sample index, then removes them. A writer
made with ``part`` (one of several processes of a sharded export) appends to
``.coco/parts-<part>.jsonl``; ``close()`` reads every part. Image
ids are ``index + 1``; annotation ids count from 1 in each file; category ids are 1..n in the
export's class order, the same in every file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from synapse_sdk.formats._files import (
    append_journal,
    journal_part,
    open_journal,
    read_journal,
    remove_journal,
    write_atomic,
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
        self._journal = journal_part(self._parts, part)
        open_journal(self._journal)

    def image_path(self, sample: Sample) -> Path:
        """``images/<split>/<file_name>``, or ``images/<file_name>`` without a split."""
        stem(sample)
        split = split_name(sample)
        return Path("images", split, sample.file_name) if split else Path("images", sample.file_name)

    def write(self, sample: Sample) -> list[Path]:
        """Keep the sample's COCO objects for ``close()`` (no label file is written per image)."""
        stem(sample)
        split = split_name(sample)
        width, height = size(sample, "COCO")
        objects = []
        item = image_item(sample, "COCO")
        keypoints = _keypoints_by_box(item)
        for name, box, polygons, crowd, box_id in _objects(item):
            number = class_id(sample, name, self._ids, "COCO")
            points = [
                [_point_name(point, name), *point.data, _visibility(point)]
                for point in keypoints.get(box_id or "", [])
            ]
            objects.append(
                {
                    "category_id": number + 1,
                    "bbox": list(box),
                    "area": sum(_area(p) for p in polygons) if polygons else box[2] * box[3],
                    "iscrowd": int(crowd),
                    "segmentation": [[v for point in polygon for v in point] for polygon in polygons],
                    "keypoints": points,
                }
            )
        image = {"file_name": sample.file_name, "width": width, "height": height}
        append_journal(self._journal, sample.index, {"split": split, "image": image, "objects": objects})
        return []

    def close(self) -> list[Path]:
        """Write ``annotations/instances_<split>.json`` for every split written, and remove the fragments.

        A folder closed before, with nothing written since, keeps its files.
        """
        folder = self.root / "annotations"
        records = read_journal(self._parts)
        existing = sorted(p.relative_to(self.root) for p in folder.glob("instances_*.json"))
        if not records and existing:
            remove_journal(self._parts)
            return existing
        categories = self._categories(records)
        by_split: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_split.setdefault(record["split"] or NO_SPLIT, []).append(record)
        if not by_split:
            by_split[NO_SPLIT] = []
        written = []
        for split, items in sorted(by_split.items(), key=lambda pair: _split_order(pair[0])):
            path = folder / f"instances_{split}.json"
            document = _document(items, categories)
            write_atomic(path, json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())
            written.append(path.relative_to(self.root))
        for split in (*SPLITS, NO_SPLIT):
            if split not in by_split:  # left by an earlier export into this folder
                (folder / f"instances_{split}.json").unlink(missing_ok=True)
        remove_journal(self._parts)
        return written

    def _categories(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Categories 1..n; keypoint names from the classes, then as first met in the samples."""
        points = {name: list(self._keypoints.get(name, [])) for name in self._ids}
        names = list(self._ids)
        for record in records:
            for obj in record["objects"]:
                known = points[names[obj["category_id"] - 1]]
                known.extend(p[0] for p in obj["keypoints"] if p[0] not in known)
        out = []
        for name, number in self._ids.items():
            category: dict[str, Any] = {"id": number + 1, "name": name, "supercategory": ""}
            if points[name]:
                category.update(keypoints=points[name], skeleton=[])
            out.append(category)
        return out


def _document(records: list[dict[str, Any]], categories: list[dict[str, Any]]) -> dict[str, Any]:
    """One COCO file: the records' images (id = index + 1) and annotations (ids from 1)."""
    points = {c["id"]: c.get("keypoints", []) for c in categories}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for record in records:
        image_id = record["index"] + 1
        images.append({"id": image_id, **record["image"]})
        for obj in record["objects"]:
            annotation = {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": obj["category_id"],
                "bbox": obj["bbox"],
                "area": obj["area"],
                "iscrowd": obj["iscrowd"],
                "segmentation": obj["segmentation"],
            }
            names = points[obj["category_id"]]
            if names:
                flat: list[float] = [0] * (3 * len(names))
                for name, x, y, visibility in obj["keypoints"]:
                    flat[3 * names.index(name) : 3 * names.index(name) + 3] = [x, y, visibility]
                annotation["keypoints"] = flat
                annotation["num_keypoints"] = sum(1 for v in flat[2::3] if v > 0)
            annotations.append(annotation)
    return {
        "info": {"description": "Exported by synapse_sdk"},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


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
