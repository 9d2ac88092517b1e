"""COCO instance and keypoint files read as DM v2 annotation data, and DM v2 written back as COCO.

:func:`read_coco` loads the file once (it is one JSON document), checks what indexing needs
(keys, ids, every annotation's image and category) and then builds each image's DM v2
:class:`~synapse_sdk.formats.dm.AnnotationData` only when asked, so a broken annotation is an
error of its image, never of the whole file. ``docs/annotation-format.md`` gives the mapping.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Final, TypeGuard

from pydantic import ValidationError

from synapse_sdk.errors import AnnotationError
from synapse_sdk.formats._messages import annotation_error, show
from synapse_sdk.formats.dm import AnnotationData, ImageAnnotations

#: Ids a COCO annotation id must fit to name DM v2 annotations (``b<id>``, ``p<id>-<n>``...).
_ID_PART: Final = re.compile(r"^[a-zA-Z0-9_-]+$")


@dataclass(frozen=True)
class CocoCategory:
    """A COCO category: its per-file id, its name (the DM v2 class name) and its keypoint names."""

    id: int | str
    name: str
    keypoints: tuple[str, ...] = ()


class CocoImage:
    """One image of a COCO file: COCO id, file name, size, and its annotations as DM v2 (``annotation``)."""

    def __init__(self, dataset: CocoDataset, info: dict[str, Any], annotations: list[dict[str, Any]]) -> None:
        self.id: int | str = info["id"]
        self.file_name: str = info["file_name"]
        self.width: int = info["width"]
        self.height: int = info["height"]
        #: A COCO file does not split its images (a file per split is the convention).
        self.split: str | None = None
        self._dataset = dataset
        self._annotations = annotations

    def __repr__(self) -> str:
        size = f"width={self.width}, height={self.height}"
        return f"CocoImage(id={self.id!r}, file_name={self.file_name!r}, {size})"

    @cached_property
    def annotation(self) -> AnnotationData:
        """The image's annotations as DM v2, built on first access.

        Raises :class:`~synapse_sdk.errors.AnnotationError` naming the file and the COCO
        annotation id when one of them is malformed (a zero-size box, a 2-point polygon...).
        """
        return _to_dm(self._dataset, self.id, self._annotations)


class CocoDataset:
    """A COCO file: its ``categories`` and its images (``len()``, iteration in file order)."""

    #: The format's name in messages (an :class:`~synapse_sdk.formats.datasets.ImageDataset`).
    format: ClassVar[str] = "COCO"

    def __init__(
        self,
        path: Path,
        categories: Sequence[CocoCategory],
        images: list[dict[str, Any]],
        annotations: dict[Any, list[dict[str, Any]]],
    ) -> None:
        self.path = path
        self.categories: tuple[CocoCategory, ...] = tuple(categories)
        self._by_id = {category.id: category for category in self.categories}
        self._images = images
        self._annotations = annotations

    def __len__(self) -> int:
        return len(self._images)

    def __iter__(self) -> Iterator[CocoImage]:
        for info in self._images:
            yield CocoImage(self, info, self._annotations.get(info["id"], []))

    @property
    def category_names(self) -> list[str]:
        """The category names in file order: the class names of the DM v2 annotations."""
        return [category.name for category in self.categories]

    @property
    def classification(self) -> dict[str, list[str]]:
        """The class names every image may use, per DM v2 tool (a project's label schema)."""
        names = self.category_names
        points = [f"{c.name}/{point}" for c in self.categories for point in c.keypoints]
        return {"bounding_box": names, "polygon": names, "keypoint": points, "group": names}


def read_coco(path: str | os.PathLike[str]) -> CocoDataset:
    """Read a COCO instances or keypoints file; images become DM v2 data lazily, on iteration.

    Raises :class:`~synapse_sdk.errors.AnnotationError` naming the file (and the image or
    annotation id) when the file cannot be read, is not JSON, lacks a key COCO requires, or
    has an annotation pointing to an image or category it does not define.
    """
    file = Path(path)
    try:
        with file.open("rb") as stream:
            document = json.load(stream)
    except OSError as exc:
        raise AnnotationError(f"{file}: cannot read the COCO file: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise AnnotationError(f"{file}: not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("images"), list):
        raise AnnotationError(f"{file}: not a COCO file: expected an object with an 'images' list")
    categories = _categories(file, _list(file, document, "categories"))
    images = _images(file, document["images"])
    return CocoDataset(file, categories, images, _annotations(file, document, categories, images))


def _list(file: Path, document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise AnnotationError(f"{file}: '{key}' must be a list, got {show(value)}")
    return value


def _key(file: Path, item: object, label: str, key: str, kinds: tuple[type, ...]) -> Any:
    """``item[key]``, or an error naming the file, the item and the key."""
    if not isinstance(item, dict):
        raise AnnotationError(f"{file}: {label}: expected an object, got {show(item)}")
    if key not in item:
        raise AnnotationError(f"{file}: {label}: missing '{key}'")
    value = item[key]
    if not isinstance(value, kinds) or isinstance(value, bool):
        expected = " or ".join(kind.__name__ for kind in kinds)
        raise AnnotationError(f"{file}: {label}: '{key}' must be {expected}, got {show(value)}")
    return value


def _categories(file: Path, raw: list[Any]) -> list[CocoCategory]:
    out: list[CocoCategory] = []
    ids: set[Any] = set()
    names: dict[str, Any] = {}
    for index, item in enumerate(raw):
        category_id = _key(file, item, f"categories[{index}]", "id", (int, str))
        label = f"category {category_id}"
        name = _key(file, item, label, "name", (str,))
        points = item.get("keypoints") or []
        if not (isinstance(points, list) and all(isinstance(point, str) for point in points)):
            raise AnnotationError(f"{file}: {label}: 'keypoints' must be a list of names, got {show(points)}")
        if category_id in ids:
            raise AnnotationError(f"{file}: {label}: the id is used by another category too")
        if name in names:
            raise AnnotationError(
                f"{file}: {label}: {name!r} is also the name of category {names[name]}; "
                "DM v2 names classes, so category names must be unique"
            )
        ids.add(category_id)
        names[name] = category_id
        out.append(CocoCategory(category_id, name, tuple(points)))
    return out


def _images(file: Path, raw: list[Any]) -> list[dict[str, Any]]:
    seen: set[Any] = set()
    for index, item in enumerate(raw):
        image_id = _key(file, item, f"images[{index}]", "id", (int, str))
        label = f"image {image_id}"
        _key(file, item, label, "file_name", (str,))
        for key in ("width", "height"):
            if _key(file, item, label, key, (int,)) <= 0:
                raise AnnotationError(f"{file}: {label}: '{key}' must be > 0, got {item[key]}")
        if image_id in seen:
            raise AnnotationError(f"{file}: {label}: the id is used by another image too")
        seen.add(image_id)
    return raw


def _annotations(
    file: Path, document: dict[str, Any], categories: list[CocoCategory], images: list[dict[str, Any]]
) -> dict[Any, list[dict[str, Any]]]:
    """The annotations per image id, each checked to point to an image and a category of the file."""
    by_image: dict[Any, list[dict[str, Any]]] = {image["id"]: [] for image in images}
    category_ids = {category.id for category in categories}
    seen: set[Any] = set()
    for index, item in enumerate(_list(file, document, "annotations")):
        annotation_id = _key(file, item, f"annotations[{index}]", "id", (int, str))
        label = f"annotation {annotation_id}"
        if not _ID_PART.match(str(annotation_id)):
            raise AnnotationError(
                f"{file}: {label}: the id names DM v2 annotations (b<id>, p<id>-<n>...), "
                "so it is an integer or letters, digits, '_' and '-'"
            )
        if annotation_id in seen:
            raise AnnotationError(f"{file}: {label}: the id is used by another annotation too")
        seen.add(annotation_id)
        image_id = _key(file, item, label, "image_id", (int, str))
        if image_id not in by_image:
            raise AnnotationError(
                f"{file}: {label}: image_id {image_id!r} is not the id of an image of the file"
            )
        category_id = _key(file, item, label, "category_id", (int, str))
        if category_id not in category_ids:
            raise AnnotationError(
                f"{file}: {label}: category_id {category_id!r} is not the id of a category of the file"
            )
        by_image[image_id].append(item)
    return by_image


def _numbers(value: object) -> TypeGuard[list[float]]:
    """Whether ``value`` is a list of finite numbers (booleans are not numbers here)."""
    return isinstance(value, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value
    )


def _to_dm(dataset: CocoDataset, image_id: object, annotations: list[dict[str, Any]]) -> AnnotationData:
    """One image's COCO annotations as DM v2: a box each, polygons, visible keypoints, a group tying them."""
    tools: dict[str, list[dict[str, Any]]] = {"bounding_box": [], "polygon": [], "keypoint": [], "group": []}
    # What each box and polygon came from, to name the COCO annotation if DM v2 validation refuses it.
    sources: dict[str, list[tuple[object, str, object]]] = {"bounding_box": [], "polygon": []}
    for item in annotations:
        number = item["id"]
        where = f"{dataset.path}: annotation {number}"
        category = dataset._by_id[item["category_id"]]
        attrs = [{"name": "iscrowd", "value": 1}] if item.get("iscrowd") else []
        parts = [f"b{number}"]
        box = item.get("bbox")
        tools["bounding_box"].append(
            {"id": parts[0], "classification": category.name, "attrs": attrs, "data": box}
        )
        sources["bounding_box"].append((number, "bbox", box))
        for n, flat in enumerate(_polygons(where, item.get("segmentation"))):
            parts.append(f"p{number}-{n}")
            points = [flat[i : i + 2] for i in range(0, len(flat), 2)]
            tools["polygon"].append(
                {"id": parts[-1], "classification": category.name, "attrs": attrs, "data": points}
            )
            sources["polygon"].append((number, f"segmentation[{n}]", flat))
        for j, x, y, visibility in _keypoints(where, item.get("keypoints"), category):
            parts.append(f"k{number}-{j}")
            tools["keypoint"].append(
                {
                    "id": parts[-1],
                    "classification": f"{category.name}/{category.keypoints[j]}",
                    "attrs": [{"name": "visibility", "value": visibility}],
                    "data": [x, y],
                }
            )
        if len(parts) > 1:
            tools["group"].append(
                {"id": f"g{number}", "classification": category.name, "attrs": [], "data": parts}
            )
    classes = {
        tool: list(dict.fromkeys(a["classification"] for a in items))
        for tool, items in tools.items()
        if items
    }
    try:
        return AnnotationData.model_validate({"classification": classes, "images": [tools]})
    except ValidationError as exc:
        raise _coco_error(dataset.path, image_id, exc, sources) from exc


_EXPECTED: Final = {
    "bbox": "[x, y, width, height] of 4 finite numbers with width and height > 0",
    "segmentation": "a polygon [x1, y1, x2, y2, ...] of at least 3 points of finite numbers",
}


def _coco_error(
    file: Path, image_id: object, exc: ValidationError, sources: dict[str, list[tuple[object, str, object]]]
) -> AnnotationError:
    """A refused box or polygon as an error naming the COCO annotation and field it came from."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        if len(loc) < 4 or loc[2] not in sources or not isinstance(loc[3], int):
            return annotation_error(f"{file}: image {image_id}", exc)
        number, field, value = sources[str(loc[2])][loc[3]]
        expected = _EXPECTED[field.split("[")[0]]
        problem = f"{file}: annotation {number}: {field}: expected {expected}, got {show(value)}"
        if problem not in problems:
            problems.append(problem)
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return AnnotationError(problems[0] + more, problems)


def _polygons(where: str, segmentation: object) -> list[list[Any]]:
    """The polygons of a ``segmentation``: none for an RLE mask (not imported) or no segmentation."""
    if segmentation is None or isinstance(segmentation, dict):
        return []
    if not isinstance(segmentation, list):
        raise AnnotationError(
            f"{where}: segmentation: expected a list of polygons or an RLE object, got {show(segmentation)}"
        )
    for n, flat in enumerate(segmentation):
        if not isinstance(flat, list):
            raise AnnotationError(
                f"{where}: segmentation[{n}]: expected {_EXPECTED['segmentation']}, got {show(flat)}"
            )
    return segmentation


def _keypoints(where: str, flat: object, category: CocoCategory) -> Iterator[tuple[int, float, float, int]]:
    """The labelled keypoints (visibility v > 0) of an annotation, with their index in the category."""
    if not flat:
        return
    expected = 3 * len(category.keypoints)
    if not (_numbers(flat) and len(flat) == expected):
        names = f"the {len(category.keypoints)} keypoints" if category.keypoints else "no keypoints"
        raise AnnotationError(
            f"{where}: keypoints: expected [x, y, v] per keypoint, and category {category.name!r} names "
            f"{names}, got {show(flat)}"
        )
    for j in range(len(category.keypoints)):
        x, y, visibility = flat[3 * j : 3 * j + 3]
        if visibility > 0:
            yield j, x, y, int(visibility)


def to_coco(
    images: Iterable[tuple[str, int, int, AnnotationData]], *, categories: Sequence[str] | None = None
) -> dict[str, Any]:
    """``(file_name, width, height, annotation)`` items as a COCO document of boxes and polygons.

    A group holding one box makes that box and the group's polygons one COCO object (as
    :func:`read_coco` builds them); other boxes have no segmentation, other polygons get the
    box around them. Category ids follow ``categories`` when given, else the order classes
    first appear in. Keypoints, polylines, relations, tags and attributes (but ``iscrowd``)
    are not written.
    """
    category_ids = {name: number for number, name in enumerate(categories or (), start=1)}
    out: dict[str, Any] = {"images": [], "annotations": [], "categories": []}
    for image_id, (file_name, width, height, annotation) in enumerate(images, start=1):
        out["images"].append({"id": image_id, "file_name": file_name, "width": width, "height": height})
        if len(annotation.images) > 1:
            raise ValueError(f"{file_name}: expected one image item, got {len(annotation.images)}")
        item = annotation.images[0] if annotation.images else ImageAnnotations()
        for name, box, polygons, crowd, _ in _objects(item):
            if name not in category_ids:
                if categories is not None:
                    raise AnnotationError(
                        f"{file_name}: class {name!r} is not one of the categories {list(categories)}"
                    )
                category_ids[name] = len(category_ids) + 1
            area = sum(_area(p) for p in polygons) if polygons else box[2] * box[3]
            out["annotations"].append(
                {
                    "id": len(out["annotations"]) + 1,
                    "image_id": image_id,
                    "category_id": category_ids[name],
                    "bbox": list(box),
                    "area": area,
                    "iscrowd": int(crowd),
                    "segmentation": [[v for point in polygon for v in point] for polygon in polygons],
                }
            )
    out["categories"] = [{"id": number, "name": name} for name, number in category_ids.items()]
    return out


#: A COCO object: class, box, polygons, is crowd, and the id of its DM v2 box (None: a lone polygon).
_Object = tuple[str, Sequence[float], list[list[tuple[float, float]]], bool, str | None]


def _objects(image: ImageAnnotations) -> Iterator[_Object]:
    """The COCO objects of an image: (class, box, polygons, is crowd, box id), boxes first, in their order."""
    parts, claimed = _box_parts(image) if image.group else ({}, set())
    polygons = {polygon.id: polygon for polygon in image.polygon} if parts else {}
    for box in image.bounding_box:
        crowd = bool(box.attrs) and any(a.name == "iscrowd" and bool(a.value) for a in box.attrs)
        outline = [polygons[p].data for p in parts[box.id]] if box.id in parts else []
        yield box.classification, box.data, outline, crowd, box.id
    for polygon in image.polygon:
        if polygon.id not in claimed:
            xs, ys = [x for x, _ in polygon.data], [y for _, y in polygon.data]
            extent = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
            crowd = any(a.name == "iscrowd" and bool(a.value) for a in polygon.attrs)
            yield polygon.classification, extent, [polygon.data], crowd, None


def _box_parts(image: ImageAnnotations) -> tuple[dict[str, list[str]], set[str]]:
    """The polygons grouped with each box (a group holding that box alone), and every polygon so claimed."""
    boxes = {box.id for box in image.bounding_box}
    polygons = {polygon.id for polygon in image.polygon}
    parts: dict[str, list[str]] = {}
    claimed: set[str] = set()
    for group in image.group:
        members = [m for m in group.data if m in boxes]
        if len(members) == 1 and members[0] not in parts:
            parts[members[0]] = [m for m in group.data if m in polygons and m not in claimed]
            claimed.update(parts[members[0]])
    return parts, claimed


def _area(points: Sequence[tuple[float, float]]) -> float:
    """The area inside a polygon (shoelace formula)."""
    twice = sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, [*points[1:], points[0]], strict=True)
    )
    return abs(twice) / 2
