"""The model's labels mapped to the project's box classes by name, refused up front when they do not fit.

A label matches the class of the same name, or failing that the one class equal to it once case,
spaces and dashes are ignored (``Cat Face`` -> ``cat_face``); ``label_map`` ({model label: class})
names the rest. A label that matches nothing refuses the run (``ParamsError``, exit 2) naming the
label, the closest class and every class, unless ``allow_unmatched_labels``: then its boxes are
dropped and counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from synapse_sdk.errors import ParamsError, did_you_mean


def box_classes(project: Mapping[str, Any]) -> list[str]:
    """The ``bounding_box`` class names of a project's configuration, in order."""
    entries = (project.get("configuration") or {}).get("bounding_box") or []
    names = [e.get("name") if isinstance(e, Mapping) else e for e in entries]
    return [n for n in dict.fromkeys(names) if isinstance(n, str) and n]


def _loose(name: str) -> str:
    return name.casefold().replace("-", "_").replace(" ", "_")


def map_labels(
    labels: Sequence[str], project: Mapping[str, Any], label_map: Mapping[str, str], *, allow_unmatched: bool
) -> dict[str, str]:
    """{model label: project class} for every label that fits (see the module docstring)."""
    classes = box_classes(project)
    where = f"project {project['id']} ({project.get('title', '')!r})"
    if not classes:
        raise ParamsError(
            f"{where} has no bounding_box classes to label; add some to its configuration, like "
            '{"bounding_box": [{"name": "face"}]}'
        )
    for label, target in label_map.items():
        if label not in labels:
            raise ParamsError(
                f"params.label_map: {label!r} is no label of the model{did_you_mean(label, labels)}; "
                f"its labels: {', '.join(labels)}"
            )
        if target not in classes:
            raise ParamsError(
                f"params.label_map.{label}: {target!r} is no bounding_box class of {where}"
                f"{did_you_mean(target, classes)}; its classes: {', '.join(classes)}"
            )
    loose: dict[str, list[str]] = {}
    for name in classes:
        loose.setdefault(_loose(name), []).append(name)
    mapping, unmatched = {}, []
    for label in labels:
        if label in label_map:
            mapping[label] = label_map[label]
        elif label in classes:
            mapping[label] = label
        elif len(loose.get(_loose(label), [])) == 1:
            mapping[label] = loose[_loose(label)][0]
        else:
            unmatched.append(label)
    if unmatched and not allow_unmatched:
        hints = "; ".join(f"{label!r}{did_you_mean(label, classes)}" for label in unmatched)
        raise ParamsError(
            f"the model's label(s) {hints} match no bounding_box class of {where} (its classes: "
            f"{', '.join(classes)}); map them with params.label_map, like "
            f'{{"{unmatched[0]}": "{classes[0]}"}}, or set allow_unmatched_labels: true to drop their boxes'
        )
    if not mapping:
        raise ParamsError(
            f"none of the model's labels ({', '.join(labels)}) match a bounding_box class of {where} "
            f"({', '.join(classes)}): nothing could be written; map them with params.label_map"
        )
    return mapping
