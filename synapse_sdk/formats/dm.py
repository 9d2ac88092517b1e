"""DM v2 (DataMaker v2) annotation data as pydantic models, validated with messages naming the field.

The format is described, with examples, in ``docs/annotation-format.md``. In short::

    {"classification": {"bounding_box": ["car"]},
     "images": [{"bounding_box": [{"id": "b1", "classification": "car", "attrs": [],
                                   "data": [12.0, 30.5, 40.0, 22.0]}]}]}

:func:`validate_annotation` turns a dict (or JSON text) into an :class:`AnnotationData` or
raises :class:`~synapse_sdk.errors.AnnotationError`; :func:`dump` gives the canonical JSON dict.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, Self

from pydantic import (
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    Strict,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from synapse_sdk.errors import did_you_mean
from synapse_sdk.formats._messages import TOOLS, annotation_error, rule, show

#: The pattern every annotation and tag id matches.
ID_PATTERN: Final = r"^[a-zA-Z0-9_-]+$"

#: An annotation tool: the name of a list on an image item.
Tool = Literal["bounding_box", "polygon", "polyline", "keypoint", "relation", "group"]
#: A key of the top-level ``classification`` map: a tool, or ``tags`` (our extension).
ClassifiedTool = Literal["bounding_box", "polygon", "polyline", "keypoint", "relation", "group", "tags"]
#: An annotation or tag id.
Id = Annotated[str, Field(pattern=ID_PATTERN)]
#: A class or attribute name.
Name = Annotated[str, Field(min_length=1)]
#: A coordinate: an int or float that is neither infinite nor NaN (strings and booleans refused).
Coordinate = Annotated[float, Strict(), AllowInfNan(False)]
#: An ``[x, y]`` point in absolute pixels from the top-left corner.
Point = tuple[Coordinate, Coordinate]


#: The validation context of data the platform checked when it stored it (see validate_annotation).
_TRUSTED: Final = {"trusted": True}
#: The lists of an image item whose ids share one namespace.
_ID_SCOPE: Final = (*TOOLS, "tags")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _checked_shape(value: object, handler: ValidatorFunctionWrapHandler, expected: str) -> Any:
    """``handler(value)``, or one error saying what shape was ``expected`` and what came."""
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "dm_data", "expected {expected}, got {got}", {"expected": expected, "got": show(value)}
        ) from None


class Attribute(_Model):
    """One ``{name, value}`` attribute of an annotation; the value is any JSON value."""

    name: Name
    value: JsonValue


class Annotation(_Model):
    """What every annotation has: an ``id`` unique in its image, its class name and attributes."""

    id: Id
    classification: Name
    attrs: list[Attribute] = Field(default_factory=list)


class BoundingBox(Annotation):
    """A box: ``data`` is ``[x, y, width, height]`` in absolute pixels from the top-left corner."""

    data: tuple[Coordinate, Coordinate, Coordinate, Coordinate]

    @field_validator("data", mode="wrap")
    @classmethod
    def _box(cls, value: object, handler: ValidatorFunctionWrapHandler) -> Any:
        box = _checked_shape(value, handler, "[x, y, width, height] of 4 finite numbers")
        if not (box[2] > 0 and box[3] > 0):
            raise PydanticCustomError(
                "dm_data",
                "expected [x, y, width, height] with width and height > 0, got {got}",
                {"got": show(value)},
            )
        return box


class Polygon(Annotation):
    """A closed outline: ``data`` is at least 3 ``[x, y]`` points (not repeating the first at the end)."""

    data: list[Point]

    @field_validator("data", mode="wrap")
    @classmethod
    def _points(cls, value: object, handler: ValidatorFunctionWrapHandler) -> Any:
        return _at_least(
            3, _checked_shape(value, handler, "a list of [x, y] points of finite numbers"), value
        )


class Polyline(Annotation):
    """An open path: ``data`` is at least 2 ``[x, y]`` points."""

    data: list[Point]

    @field_validator("data", mode="wrap")
    @classmethod
    def _points(cls, value: object, handler: ValidatorFunctionWrapHandler) -> Any:
        return _at_least(
            2, _checked_shape(value, handler, "a list of [x, y] points of finite numbers"), value
        )


def _at_least(count: int, points: list[Any], value: object) -> list[Any]:
    if len(points) < count:
        raise PydanticCustomError(
            "dm_data",
            "expected at least {count} [x, y] points, got {got}",
            {"count": count, "got": show(value)},
        )
    return points


class Keypoint(Annotation):
    """A point: ``data`` is one ``[x, y]``."""

    data: Point

    @field_validator("data", mode="wrap")
    @classmethod
    def _point(cls, value: object, handler: ValidatorFunctionWrapHandler) -> Any:
        return _checked_shape(value, handler, "[x, y] of 2 finite numbers")


class Relation(Annotation):
    """A directed link: ``data`` is ``[from_id, to_id]``, ids of annotations of the same image."""

    data: tuple[str, str]

    @field_validator("data", mode="wrap")
    @classmethod
    def _ids(cls, value: object, handler: ValidatorFunctionWrapHandler) -> Any:
        return _checked_shape(value, handler, "[from_id, to_id]")


class Group(Annotation):
    """A set of annotations (the parts of one object): ``data`` lists one or more ids of the same image."""

    data: list[str]

    @field_validator("data", mode="wrap")
    @classmethod
    def _ids(cls, value: object, handler: ValidatorFunctionWrapHandler) -> Any:
        ids = _checked_shape(value, handler, "a list of annotation ids")
        if not ids:
            raise PydanticCustomError("dm_data", "expected a list of one or more annotation ids, got []")
        return ids


class Tag(_Model):
    """An image-level label (our extension of DM v2): the whole image is of class ``classification``."""

    id: Id
    classification: Name
    attrs: list[Attribute] = Field(default_factory=list)


class ImageAnnotations(_Model):
    """The annotations of one image, one list per tool (missing lists are empty), plus its ``tags``."""

    bounding_box: list[BoundingBox] = Field(default_factory=list)
    polygon: list[Polygon] = Field(default_factory=list)
    polyline: list[Polyline] = Field(default_factory=list)
    keypoint: list[Keypoint] = Field(default_factory=list)
    relation: list[Relation] = Field(default_factory=list)
    group: list[Group] = Field(default_factory=list)
    tags: list[Tag] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_ids(self, info: ValidationInfo) -> Self:
        if info.context is _TRUSTED:
            return self
        lists = [(tool, getattr(self, tool)) for tool in _ID_SCOPE]
        ids = [item.id for _, items in lists for item in items]
        if len(ids) > 1 and len(set(ids)) < len(ids):
            owner: dict[str, tuple[str, int]] = {}
            for tool, items in lists:
                for index, item in enumerate(items):
                    first = owner.setdefault(item.id, (tool, index))
                    if first != (tool, index):
                        raise rule(
                            (tool, index, "id"),
                            f"{item.id!r} is already the id of {first[0]}[{first[1]}]; "
                            "ids are unique within an image",
                        )
        if self.relation or self.group:
            annotation_ids = {item.id for tool, items in lists if tool != "tags" for item in items}
            for tool in ("relation", "group"):
                for index, item in enumerate(getattr(self, tool)):
                    for position, ref in enumerate(item.data):
                        where = (tool, index, "data", position)
                        if ref == item.id:
                            raise rule(where, f"{tool} {item.id!r} refers to itself")
                        if ref not in annotation_ids:
                            raise rule(where, f"{ref!r} is not the id of an annotation in this image")
        return self

    @model_serializer(mode="wrap")
    def _without_empty_tags(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Pure DM v2 readers never see our extension on images that do not use it.
        out: dict[str, Any] = handler(self)
        if not out.get("tags"):
            out.pop("tags", None)
        return out

    def annotations(self) -> list[tuple[Tool, Annotation]]:
        """Every annotation of the image with its tool, tool by tool in DM v2 order (tags excluded)."""
        return [(tool, item) for tool in TOOLS for item in getattr(self, tool)]


class AnnotationData(_Model):
    """The ``data`` of a task, an assignment or a ground-truth event: class names per tool, and images.

    ``classification`` is optional: when a tool is listed in it, every annotation of that tool
    (``tags`` for tags) must use one of the listed class names; unlisted tools are not checked.
    """

    classification: dict[ClassifiedTool, list[Name]] = Field(default_factory=dict)
    images: list[ImageAnnotations] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_classes(self, info: ValidationInfo) -> Self:
        if info.context is _TRUSTED:
            return self
        for tool, names in self.classification.items():
            allowed = set(names)
            for image_index, image in enumerate(self.images):
                for index, item in enumerate(getattr(image, tool)):
                    if item.classification not in allowed:
                        listed = ", ".join(map(repr, names)) or "nothing"
                        raise rule(
                            ("images", image_index, tool, index, "classification"),
                            f"{item.classification!r} is not listed under classification.{tool} ({listed})"
                            + did_you_mean(item.classification, names),
                        )
        return self


def validate_annotation(data: object, *, where: str, trusted: bool = False) -> AnnotationData:
    """``data`` (a dict, or JSON text) as :class:`AnnotationData`.

    Raises :class:`~synapse_sdk.errors.AnnotationError` whose message is one line,
    ``<where>: <field path>: <problem>`` (e.g. ``task 12: images[0].bounding_box[1].data: ...``);
    its ``problems`` lists every problem pydantic found. ``trusted``: the platform checked this
    data when it stored it, so the checks across an image's annotations (unique ids, references,
    listed classes) are not made again; each field is still checked as it is built.
    """
    context = _TRUSTED if trusted else None
    try:
        if isinstance(data, str | bytes | bytearray):
            return AnnotationData.model_validate_json(data, context=context)
        return AnnotationData.model_validate(data, context=context)
    except ValidationError as exc:
        raise annotation_error(where, exc) from exc


def dump(annotation: AnnotationData) -> dict[str, Any]:
    """The canonical JSON dict: every field and every tool list, ``tags`` only on images that have some."""
    return annotation.model_dump(mode="json")
