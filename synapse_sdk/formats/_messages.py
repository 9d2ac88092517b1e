"""Pydantic validation errors of DM v2 data, as one-line messages naming the item and the field path."""

from __future__ import annotations

import json
from typing import Any, Final

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from synapse_sdk.errors import AnnotationError, did_you_mean

#: The tools of an image item, in the order DM v2 lists them.
TOOLS: Final = ("bounding_box", "polygon", "polyline", "keypoint", "relation", "group")
#: The error type of our own rules (see :func:`rule`): its context carries the full sub-location.
RULE: Final = "dm_rule"

_ANNOTATION_FIELDS: Final = ("id", "classification", "attrs", "data")
_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "top": ("classification", "images"),
    "image": (*TOOLS, "tags"),
    "annotation": _ANNOTATION_FIELDS,
    "tag": ("id", "classification", "attrs"),
    "attribute": ("name", "value"),
}
_MAX_SHOWN = 80


def show(value: object) -> str:
    """A value as a user wrote it: strings quoted, lists and objects as JSON, cut at 80 characters."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=repr)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def path(loc: tuple[int | str, ...]) -> str:
    """``('images', 0, 'bounding_box', 1, 'data')`` as ``images[0].bounding_box[1].data``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def rule(loc: tuple[int | str, ...], detail: str) -> PydanticCustomError:
    """An error of a rule checked on a whole model, located at ``loc`` below that model."""
    return PydanticCustomError(RULE, "{where}: {detail}", {"where": path(loc), "detail": detail, "loc": loc})


def _kind(parent: tuple[int | str, ...]) -> str:
    """Which object sits at ``parent``: the top, an image item, an annotation, a tag or an attribute."""
    if not parent:
        return "top"
    if len(parent) >= 2 and isinstance(parent[-1], int):
        owner = parent[-2]
        if owner == "images":
            return "image"
        if owner == "tags":
            return "tag"
        if owner == "attrs":
            return "attribute"
        if owner in TOOLS:
            return "annotation"
    return ""


def _unknown(what: str, name: str, known: tuple[str, ...]) -> str:
    hint = did_you_mean(name, known)
    return (
        f"unknown {what}{hint}"
        if hint or not known
        else f"unknown {what}; expected one of {', '.join(known)}"
    )


def describe(error: Any) -> tuple[tuple[int | str, ...], str]:
    """The location and the user-facing sentence of one pydantic error dict."""
    loc: tuple[int | str, ...] = tuple(error["loc"])
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == RULE:
        return loc + tuple(ctx["loc"]), ctx["detail"]
    if loc and loc[-1] == "[key]":  # a key of the top-level classification map
        loc = loc[:-1]
        return loc, _unknown("tool", str(loc[-1]), (*TOOLS, "tags"))
    if kind == "extra_forbidden":
        return loc, _unknown("field", str(loc[-1]), _FIELDS.get(_kind(loc[:-1]), ()))
    if kind == "missing":
        return loc, "required field is missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"expected an object, got {show(value)}"
    if kind in ("list_type", "tuple_type"):
        return loc, f"expected a list, got {show(value)}"
    if kind == "string_type":
        return loc, f"expected a string, got {show(value)}"
    if kind == "string_too_short":
        return loc, "expected a non-empty string"
    if kind == "string_pattern_mismatch":
        return loc, f"expected an id of letters, digits, '_' and '-' (like 'b1'), got {show(value)}"
    if kind == "json_invalid":
        return loc, f"not valid JSON: {ctx.get('error', error['msg'])}"
    message = str(error["msg"])
    if kind.startswith("dm_"):
        return loc, message
    return loc, f"{message[:1].lower()}{message[1:]}, got {show(value)}"


def annotation_error(where: str, exc: ValidationError) -> AnnotationError:
    """``exc`` as an :class:`AnnotationError`: ``<where>: <field path>: <problem>``, every problem kept."""
    problems = []
    for error in exc.errors(include_url=False):
        loc, detail = describe(error)
        problems.append(f"{path(loc)}: {detail}" if loc else detail)
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return AnnotationError(f"{where}: {problems[0]}{more}", [f"{where}: {problem}" for problem in problems])
