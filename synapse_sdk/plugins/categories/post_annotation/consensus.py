"""One task's consensus: its annotators' boxes matched into objects, merged, and their agreement.

For each image of the task, the annotators' boxes are gathered into **objects**: the first
annotator's boxes start one object each; each next annotator's boxes are matched (the action's
``match_boxes``) against the objects' current merged boxes, joining the object they match or
starting a new one. An object is **kept** when at least ``min_agreement`` of the annotators
have a box in it; its box is the action's ``merge_boxes`` of the members' boxes, its class the
members' majority (ties: the first name in alphabetical order), its attributes the majority
value of each attribute most of those members set. Image tags (our DM v2 extension) are units
too: a tag is kept when ``min_agreement`` of the annotators gave it. Other tools (polygons,
keypoints) are not merged: the first annotator's are kept; relations and groups are dropped.

Every object and tag is a **unit** rated by each annotator (its class, or None for "not
there"); from the units come the task's agreement (the share of ratings equal to the
consensus), the kappa (``agreement.kappa``) and the per-class tallies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from synapse_sdk.plugins.categories.post_annotation.agreement import iou, kappa

#: ``match_boxes(objects, boxes)``: ``(object index, box index)`` pairs.
Matcher = Callable[[list[dict[str, Any]], list[dict[str, Any]]], Sequence[tuple[int, int]]]
#: ``merge_boxes(boxes)``: the ``[x, y, width, height]`` of one object.
Merger = Callable[[list[dict[str, Any]]], list[float]]


@dataclass
class Unit:
    """One object or tag of a task: each annotator's label for it (None: not there), its consensus."""

    tool: str
    labels: list[str | None]
    #: The label most annotators gave (None: no annotator has it).
    majority: str | None
    #: The merged label: the majority's when the unit is kept, else None (not in the merged annotation).
    consensus: str | None
    ious: list[float] = field(default_factory=list)

    @property
    def agreeing(self) -> int:
        """How many annotators gave the consensus label."""
        return sum(label == self.consensus for label in self.labels)


@dataclass
class TaskConsensus:
    """What ``merge_task`` found: the merged annotation, the units, and per annotator pair the
    matched boxes (``(matched, boxes of a + boxes of b)``)."""

    data: dict[str, Any]
    units: list[Unit]
    annotators: list[str]
    pairs: dict[tuple[int, int], tuple[int, int]]

    @property
    def agreement(self) -> float:
        """The share of ratings equal to the consensus over every unit (1.0 for no units)."""
        ratings = sum(len(unit.labels) for unit in self.units)
        return sum(unit.agreeing for unit in self.units) / ratings if ratings else 1.0

    @property
    def kappa(self) -> float | None:
        """Cohen's (two annotators) or Fleiss' kappa of the units' labels."""
        return kappa([unit.labels for unit in self.units])

    @property
    def mean_iou(self) -> float | None:
        """The mean IoU of every pair of matched boxes (None: no box was matched)."""
        values = [value for unit in self.units for value in unit.ious]
        return sum(values) / len(values) if values else None

    @property
    def match_rate(self) -> float:
        """The mean over annotator pairs of ``2 x matched / (boxes of a + boxes of b)`` (an F1: 1.0 when
        every box of each has its match in the other; pairs with no boxes count 1.0)."""
        rates = [2 * matched / boxes if boxes else 1.0 for matched, boxes in self.pairs.values()]
        return sum(rates) / len(rates) if rates else 1.0


def merge_task(
    annotations: Sequence[tuple[str, Mapping[str, Any] | None]],
    *,
    match: Matcher,
    merge: Merger,
    min_agreement: float,
) -> TaskConsensus:
    """The consensus of one task's ``(annotator, DM v2 annotation)`` list (see the module docstring)."""
    names = [name for name, _ in annotations]
    count = len(names)
    datas = [dict(data or {}) for _, data in annotations]
    image_count = max((len(d.get("images") or []) for d in datas), default=0)
    units: list[Unit] = []
    pairs = dict.fromkeys(combinations(range(count), 2), (0, 0))
    merged_images = []
    for index in range(image_count):
        images = [_image(d, index) for d in datas]
        boxes = [list(image.get("bounding_box") or []) for image in images]
        objects = _objects(boxes, match, merge)
        for a, b in pairs:
            matched = sum(1 for members in objects if a in members and b in members)
            before = pairs[(a, b)]
            pairs[(a, b)] = (before[0] + matched, before[1] + len(boxes[a]) + len(boxes[b]))
        merged = _kept_tools(images[0] if images else {})
        merged["bounding_box"] = []
        for members in objects:
            unit = _object_unit(members, count)
            units.append(unit)
            if len(members) >= min_agreement * count and unit.consensus is not None:
                agreeing = [box for box in members.values() if box.get("classification") == unit.consensus]
                merged["bounding_box"].append(
                    {
                        "id": f"box{len(merged['bounding_box']) + 1}",
                        "classification": unit.consensus,
                        "attrs": _attrs(agreeing),
                        "data": [round(v, 3) for v in merge(list(members.values()))],
                    }
                )
            else:
                unit.consensus = None
        tag_units = _tags(images, count, min_agreement)
        units.extend(tag_units)
        merged["tags"] = [
            {"id": f"tag{n}", "classification": unit.consensus}
            for n, unit in enumerate((u for u in tag_units if u.consensus is not None), start=1)
        ]
        if not merged["tags"]:
            del merged["tags"]
        merged_images.append(merged)
    return TaskConsensus(_annotation(merged_images), units, names, pairs)


def _image(data: Mapping[str, Any], index: int) -> dict[str, Any]:
    images = data.get("images") or []
    return dict(images[index]) if index < len(images) else {}


def _kept_tools(image: Mapping[str, Any]) -> dict[str, Any]:
    """The first annotator's polygons, polylines and keypoints, renamed ``<tool><n>`` (links dropped:
    the ids they refer to change)."""
    kept: dict[str, Any] = {}
    for tool in ("polygon", "polyline", "keypoint"):
        items = [item for item in image.get(tool) or [] if isinstance(item, Mapping)]
        kept[tool] = [{**item, "id": f"{tool}{n}"} for n, item in enumerate(items, start=1)]
    return kept


def _objects(
    boxes: list[list[dict[str, Any]]], match: Matcher, merge: Merger
) -> list[dict[int, dict[str, Any]]]:
    """The objects of one image: ``{annotator index: box}`` each, in order of first appearance."""
    objects: list[dict[int, dict[str, Any]]] = []
    for annotator, found in enumerate(boxes):
        current = [_current(members, merge) for members in objects]
        taken: set[int] = set()
        for obj, box in match(current, found) if current and found else ():
            if box in taken or annotator in objects[obj]:
                continue
            objects[obj][annotator] = found[box]
            taken.add(box)
        objects.extend({annotator: box} for n, box in enumerate(found) if n not in taken)
    return objects


def _current(members: Mapping[int, dict[str, Any]], merge: Merger) -> dict[str, Any]:
    """An object as ``match_boxes`` sees it: its merged box, majority class and member boxes."""
    boxes = list(members.values())
    votes = Counter(box.get("classification") for box in boxes)
    return {
        "data": merge(boxes),
        "classification": min(votes, key=lambda name: (-votes[name], str(name))),
        "members": boxes,
    }


def _object_unit(members: Mapping[int, Mapping[str, Any]], count: int) -> Unit:
    labels = [members[n].get("classification") if n in members else None for n in range(count)]
    votes = Counter(label for label in labels if label is not None)
    consensus = min(votes, key=lambda name: (-votes[name], name)) if votes else None
    ious = [iou(members[a]["data"], members[b]["data"]) for a, b in combinations(sorted(members), 2)]
    return Unit("bounding_box", labels, consensus, consensus, ious)


def _tags(images: Sequence[Mapping[str, Any]], count: int, min_agreement: float) -> list[Unit]:
    given = [{tag.get("classification") for tag in image.get("tags") or []} for image in images]
    names = sorted({name for tags in given for name in tags if isinstance(name, str)})
    units = []
    for name in names:
        labels = [name if name in tags else None for tags in given]
        have = sum(label is not None for label in labels)
        units.append(Unit("tags", labels, name, name if have >= min_agreement * count else None))
    return units


def _attrs(boxes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each attribute most of ``boxes`` set, with its most common value (first seen on a tie)."""
    values: dict[str, list[Any]] = {}
    for box in boxes:
        for attr in box.get("attrs") or []:
            values.setdefault(attr["name"], []).append(attr.get("value"))
    attrs = []
    for name, found in values.items():
        if 2 * len(found) >= len(boxes):
            counted = Counter(map(_key, found))
            best = max(found, key=lambda value: counted[_key(value)])
            attrs.append({"name": name, "value": best})
    return attrs


def _key(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def _annotation(images: list[dict[str, Any]]) -> dict[str, Any]:
    """A DM v2 annotation of ``images``, its ``classification`` listing the classes of each tool."""
    classes: dict[str, set[str]] = {}
    for image in images:
        for tool, items in image.items():
            for item in items if isinstance(items, list) else ():
                if isinstance(item, Mapping) and tool not in ("relation", "group"):
                    classes.setdefault(tool, set()).add(str(item.get("classification")))
    return {"classification": {tool: sorted(names) for tool, names in classes.items()}, "images": images}
