"""The classes of an export: what COCO categories, YOLO class ids and VOC names are numbered from.

A project's configuration lists them per tool (``{"bounding_box": [{"name": "car"}], ...}``):
they are taken in that order, each once. Without a project (a ground-truth dataset of none, a
local file) they are the class names the annotations use, in order of first use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: Tools whose classes name links between annotations (``rides``), not objects: not export classes.
_LINKS = frozenset({"relation", "group"})


def classes_of_configuration(configuration: Mapping[str, Any] | None) -> list[str]:
    """The class names of a project configuration, tool by tool in its order, each once (links aside)."""
    names: dict[str, None] = {}
    for tool, entries in (configuration or {}).items():
        if not isinstance(entries, list) or tool in _LINKS:
            continue
        for entry in entries:
            name = entry.get("name") if isinstance(entry, Mapping) else entry
            if isinstance(name, str) and name:
                names.setdefault(name, None)
    return list(names)


def classes_of_annotation(data: Any, names: dict[str, None]) -> None:
    """Add the class names one DM v2 annotation lists or uses to ``names`` (in order, each once)."""
    if not isinstance(data, Mapping):
        return
    listed = data.get("classification")
    if isinstance(listed, Mapping):
        for tool, values in listed.items():
            if isinstance(values, list) and tool not in _LINKS:
                for value in values:
                    if isinstance(value, str):
                        names.setdefault(value, None)
    images = data.get("images")
    for image in images if isinstance(images, list) else ():
        if not isinstance(image, Mapping):
            continue
        for tool, found in image.items():
            if tool in _LINKS:
                continue
            for annotation in found if isinstance(found, list) else ():
                name = annotation.get("classification") if isinstance(annotation, Mapping) else None
                if isinstance(name, str):
                    names.setdefault(name, None)


def classes_of_items(items: Iterable[Mapping[str, Any]]) -> list[str]:
    """The class names the items' annotations use, in order of first use (one pass over them)."""
    names: dict[str, None] = {}
    for item in items:
        classes_of_annotation(item.get("data"), names)
    return list(names)
