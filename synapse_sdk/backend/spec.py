"""``ResourceSpec``: what the layers know of one resource, and how its inputs are validated.

One spec per resource (the table is :mod:`synapse_sdk.backend.resources`) drives every layer:
the embedded store (``store/resources.py``), the HTTP routes (``server/routes/platform.py``) and
the HTTP client (``http/resources.py``). Records travel as plain dicts (the reference platform's
JSON): a listing of a million tasks is decoded row by row, never validated again on the way out.

Validation is one pydantic pass over the whole list (defaults filled in by the schema), then
one pass per check over the rows (``data`` as DM v2 annotations: one pass for all of them). It
is free of the database, so the HTTP client runs it before sending and both backends give the
same message for the same mistake: ``tasks[3].data: images[0].bounding_box[0].data: ...``.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any, NotRequired

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from synapse_sdk.errors import UsageError, did_you_mean

#: Listing parameters that are not filters (``expand`` is accepted and ignored: records are whole).
NOT_FILTERS = frozenset({"expand", "page_size", "page", "cursor", "ordering"})

#: Names the item ``i`` of a validated list in messages (``tasks[3]``, or ``task`` for a single one).
ItemName = Callable[[int], str]
#: Checks validated rows beyond their schema; may rewrite them; raises naming the item and the field.
Check = Callable[[list[dict[str, Any]], ItemName], None]


@dataclass(frozen=True)
class ResourceSpec:
    """Everything the layers need to know of one resource."""

    #: The resource's name: its table, its URL path (``tasks/``) and its ``Backend`` attribute.
    name: str
    #: One record, as messages name it (``task 12``).
    singular: str
    schema: type
    #: Columns in the order of the table (``id`` and timestamps excluded).
    fields: tuple[str, ...]
    #: The value of every field an input may leave out.
    defaults: Mapping[str, Any]
    json_fields: frozenset[str]
    bool_fields: frozenset[str] = frozenset()
    filters: tuple[str, ...] = ()
    #: Filters that are not fields of the schema, with their type (tasks: ``assignment``).
    extra_filters: Mapping[str, Any] = field(default_factory=dict)
    updatable: tuple[str, ...] = ()
    #: Fields that name another resource (for the messages of a broken reference).
    references: Mapping[str, str] = field(default_factory=dict)
    has_updated_at: bool = False
    checks: tuple[Check, ...] = ()
    #: Boolean fields true on one record at most (storages: ``is_default``): setting one clears the others.
    exclusive: tuple[str, ...] = ()
    #: Fills an update's fields from the record it changes (storages: masked secrets kept).
    on_update: Callable[[Mapping[str, Any], dict[str, Any]], None] | None = None
    #: How a record is shown outside the store (storages: secrets masked); None: as stored.
    present: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column a record has, in table order."""
        stamps = ("created_at", "updated_at") if self.has_updated_at else ("created_at",)
        return ("id", *self.fields, *stamps)

    @cached_property
    def field_types(self) -> dict[str, Any]:
        """Each field's type as the schema declares it (``NotRequired`` taken off)."""
        hints = typing.get_type_hints(self.schema, include_extras=True)
        return {
            k: typing.get_args(v)[0] if typing.get_origin(v) is NotRequired else v for k, v in hints.items()
        }

    @cached_property
    def create_schema(self) -> type:
        """The input schema with its defaults: what a create validates, and what OpenAPI shows."""
        hints = typing.get_type_hints(self.schema, include_extras=True)
        fields: dict[str, Any] = {}
        for key, hint in hints.items():
            if typing.get_origin(hint) is NotRequired:
                if key not in self.defaults:
                    raise TypeError(f"{self.name}.{key}: an optional field needs a default in the spec")
                fields[key] = NotRequired[Annotated[self.field_types[key], _default(self.defaults[key])]]
            else:
                fields[key] = hint
        schema = TypedDict(self.schema.__name__, fields)  # type: ignore[misc]  # built from the schema
        schema.__doc__ = self.schema.__doc__
        schema.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]  # pydantic reads it
        return typing.cast(type, schema)

    @cached_property
    def update_schema(self) -> type:
        """The fields an update may change, each optional and without defaults."""
        fields = {key: NotRequired[self.field_types[key]] for key in self.updatable}
        schema = TypedDict(f"{self.schema.__name__}Update", fields)  # type: ignore[misc]  # built from the schema
        schema.__doc__ = f"The fields of a {self.singular} that can change: {', '.join(self.updatable)}."
        schema.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]  # pydantic reads it
        return typing.cast(type, schema)

    @cached_property
    def _create(self) -> TypeAdapter[list[dict[str, Any]]]:
        return TypeAdapter(list[self.create_schema])  # type: ignore[name-defined]  # a TypedDict class

    @cached_property
    def _update(self) -> TypeAdapter[dict[str, Any]]:
        return TypeAdapter(self.update_schema)

    @cached_property
    def _filter_types(self) -> dict[str, tuple[TypeAdapter[Any], TypeAdapter[list[Any]], bool]]:
        """Per filter: its value's adapter, a list's adapter, and whether None (``IS NULL``) is allowed."""
        found = {}
        for key in self.filters:
            kind = self.extra_filters[key] if key in self.extra_filters else self.field_types.get(key)
            if kind is None:
                raise TypeError(f"{self.name}: filter {key!r} is no field; give its type in extra_filters")
            found[key] = (TypeAdapter(kind), TypeAdapter(list[kind]), _nullable(kind))  # type: ignore[valid-type]
        return found

    def validate_many(self, items: Sequence[Any], where: str | None = None) -> list[dict[str, Any]]:
        """Validate inputs and fill in defaults; ``UsageError`` naming the item and the field.

        ``where`` names the items in messages: the resource's name (the default) gives
        ``tasks[3].project: ...``; any other name (``task``) names a single item: ``task.project: ...``.
        """
        where = where or self.name
        if not isinstance(items, Sequence) or isinstance(items, str | bytes):
            raise UsageError(f"{where}: expected a list of {self.singular} objects")
        indexed = where == self.name
        try:
            rows = self._create.validate_python(items if isinstance(items, list) else list(items))
        except ValidationError as exc:
            raise UsageError(first_error(exc, where, indexed)) from None
        name = item_namer(where, indexed)
        for check in self.checks:
            check(rows, name)
        return rows

    def validate_update(
        self, fields: Mapping[str, Any], where: str, current: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The fields of an update, validated: only ``updatable`` ones, each as the schema says.

        With ``current`` (the record as stored), the checks see the record as it will be.
        """
        if not isinstance(fields, Mapping):
            raise UsageError(
                f"{where}: expected an object of the fields to change, like {{'status': 'completed'}}"
            )
        unknown = [k for k in fields if k not in self.updatable]
        if unknown:
            hint = did_you_mean(unknown[0], self.updatable)
            allowed = ", ".join(self.updatable) or "none"
            raise UsageError(f"{where}.{unknown[0]}: cannot be changed{hint}; changeable: {allowed}")
        try:
            valid: dict[str, Any] = self._update.validate_python(dict(fields))
        except ValidationError as exc:
            raise UsageError(first_error(exc, where, indexed=False)) from None
        if current is not None and self.on_update is not None:
            self.on_update(current, valid)
        row = {**current, **valid} if current is not None else dict(valid)
        for check in self.checks:
            check([row], lambda _: where)
        return {key: row[key] for key in valid}

    def check_filters(self, filters: Mapping[str, Any], where: str = "params") -> dict[str, Any]:
        """Known filters only, each value as its field's type (a list: any of them; None: unset)."""
        clean: dict[str, Any] = {}
        for key, value in filters.items():
            if key in NOT_FILTERS:
                continue
            found = self._filter_types.get(key)
            if found is None:
                hint = did_you_mean(key, self.filters)
                raise UsageError(
                    f"{where}.{key}: {self.name} cannot be filtered by {key!r}{hint}; "
                    f"filters: {', '.join(self.filters) or 'none'}"
                )
            one, many, nullable = found
            if value is None and nullable:
                clean[key] = None
                continue
            try:
                clean[key] = (
                    many.validate_python(value)
                    if isinstance(value, list | tuple)
                    else one.validate_python(value)
                )
            except ValidationError as exc:
                raise UsageError(first_error(exc, f"{where}.{key}", indexed=True)) from None
        return clean

    def is_nullable_filter(self, key: str) -> bool:
        """True when ``key`` filters by a field that may be unset (``?data_unit=null``)."""
        found = self._filter_types.get(key)
        return bool(found and found[2])


def _default(value: Any) -> Any:
    if isinstance(value, dict | list) and not value:
        return Field(default_factory=type(value))
    return Field(default=value)


def _nullable(hint: Any) -> bool:
    while typing.get_origin(hint) is Annotated:
        hint = typing.get_args(hint)[0]
    return type(None) in typing.get_args(hint)


def item_namer(where: str, indexed: bool) -> ItemName:
    """How messages name the item ``i``: ``where[i]`` when ``indexed``, else ``where`` for every item."""
    return (lambda i: f"{where}[{i}]") if indexed else (lambda _: where)


def first_error(exc: ValidationError, where: str, indexed: bool = True) -> str:
    """``tasks[3].data_unit: input should be a valid integer, got 'x'`` — one line, first problem."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = err["loc"]
    path = where
    if loc and isinstance(loc[0], int):
        path = f"{where}[{loc[0]}]" if indexed else where
        loc = loc[1:]
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    value = err.get("input")
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    msg = err["msg"][0].lower() + err["msg"][1:]
    if err["type"] == "missing":
        msg = "required field is missing"
    elif err["type"] == "extra_forbidden":
        msg = "unknown field"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    got = "" if err["type"] in ("missing", "extra_forbidden") else f", got {shown}"
    return f"{path}: {msg}{got}{more}"
