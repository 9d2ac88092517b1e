"""The data platform's resources: what each one holds, how it is validated, filtered and changed.

One :class:`ResourceSpec` per resource drives every layer: the embedded store
(``store/resources.py``), the HTTP routes (``server/routes/platform.py``) and the HTTP client
(``http/resources.py``). Records travel as plain dicts (the reference platform's JSON): a
listing of a million tasks is decoded row by row, never validated again on the way out.

Validation is one pydantic pass over the whole list (defaults filled in by the schema), then
one pass per check over the rows (``data`` as DM v2 annotations: one pass for all of them). It
is free of the database, so the HTTP client runs it before sending and both backends give the
same message for the same mistake: ``tasks[3].data: images[0].bounding_box[0].data: ...``.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import re
import threading
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from synapse_sdk.errors import UsageError, did_you_mean

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Id = Annotated[int, Field(ge=1, le=2**62)]
Checksum = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
#: Free JSON (configuration, metrics, meta): values JSON can hold, checked at the door.
JsonObject = dict[str, JsonValue]
#: An annotation (DM v2, ``docs/annotation-format.md``): checked in full by the ``_annotations`` check.
Annotation = dict[str, Any]
Timestamp = Annotated[float, Field(ge=0, le=1e11)]

TASK_STATUSES = ("pending", "in_progress", "completed", "reviewed", "rejected")
ASSIGNMENT_STATUSES = ("pending", "submitted", "approved", "rejected")
SPLITS = ("train", "val", "test")
FILE_TYPES = ("image", "video", "text", "audio", "pcd", "json", "other")
PROVIDERS = ("local", "s3")
#: Listing parameters that are not filters (``expand`` is accepted and ignored: records are whole).
NOT_FILTERS = frozenset({"expand", "page_size", "page", "cursor", "ordering"})


@with_config(ConfigDict(extra="forbid"))
class FileSpecification(TypedDict):
    """One kind of file a data unit of a collection holds (e.g. the ``image`` of an image unit)."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    file_type: Literal["image", "video", "text", "audio", "pcd", "json", "other"]
    is_required: NotRequired[bool]
    is_primary: NotRequired[bool]
    extensions: NotRequired[list[Annotated[str, StringConstraints(pattern=r"^\.[A-Za-z0-9]{1,10}$")]]]


@with_config(ConfigDict(extra="forbid"))
class UnitFile(TypedDict):
    """A data unit's file for one specification: the data file, its path in the storage, its sha256."""

    data_file: Id
    path: NotRequired[str]
    checksum: NotRequired[Checksum]


@with_config(ConfigDict(extra="forbid"))
class StorageIn(TypedDict):
    """A storage: where files live (``configuration`` per provider; secrets never read back)."""

    name: Name
    provider: Literal["local", "s3"]
    configuration: NotRequired[JsonObject]
    is_default: NotRequired[bool]


@with_config(ConfigDict(extra="forbid"))
class DataCollectionIn(TypedDict):
    """A kind of data unit, described by its file specifications."""

    name: Name
    description: NotRequired[str]
    file_specifications: NotRequired[list[FileSpecification]]


@with_config(ConfigDict(extra="forbid"))
class DataFileIn(TypedDict):
    """One stored file: its storage, its key inside it, size and sha256."""

    storage: Id
    path: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    size: Annotated[int, Field(ge=0, le=2**62)]
    checksum: Checksum
    mime_type: NotRequired[str | None]
    name: NotRequired[str]
    meta: NotRequired[JsonObject]


@with_config(ConfigDict(extra="forbid"))
class DataUnitIn(TypedDict):
    """One item to annotate: a file per specification, plus free metadata (e.g. from Excel)."""

    data_collection: Id
    files: dict[str, UnitFile]
    meta: NotRequired[JsonObject]
    checksum: NotRequired[Checksum | None]


@with_config(ConfigDict(extra="forbid"))
class ProjectIn(TypedDict):
    """An annotation project over a data collection; ``configuration`` is its label schema."""

    title: Name
    description: NotRequired[str]
    data_collection: NotRequired[Id | None]
    configuration: NotRequired[JsonObject]


@with_config(ConfigDict(extra="forbid"))
class TaskIn(TypedDict):
    """One data unit to annotate in a project; ``data`` is its annotation (DM v2)."""

    project: Id
    data_unit: NotRequired[Id | None]
    status: NotRequired[Literal["pending", "in_progress", "completed", "reviewed", "rejected"]]
    data: NotRequired[Annotation | None]
    tags: NotRequired[list[str]]


@with_config(ConfigDict(extra="forbid"))
class AssignmentIn(TypedDict):
    """One annotator's work on a task; ``data`` is the annotation they made (DM v2)."""

    project: Id
    task: Id
    status: NotRequired[Literal["pending", "submitted", "approved", "rejected"]]
    annotator: NotRequired[str | None]
    data: NotRequired[Annotation | None]
    started_at: NotRequired[Timestamp | None]
    submitted_at: NotRequired[Timestamp | None]


@with_config(ConfigDict(extra="forbid"))
class GroundTruthDatasetIn(TypedDict):
    """A curated, versioned training set."""

    name: Name
    project: NotRequired[Id | None]
    description: NotRequired[str]


@with_config(ConfigDict(extra="forbid"))
class GroundTruthVersionIn(TypedDict):
    """An immutable snapshot of a ground-truth dataset, once frozen."""

    dataset: Id
    version: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
    is_frozen: NotRequired[bool]


@with_config(ConfigDict(extra="forbid"))
class GroundTruthEventIn(TypedDict):
    """One item of a version: a data unit, its annotation (DM v2) and its split."""

    ground_truth_dataset_version: Id
    data_unit: NotRequired[Id | None]
    data: NotRequired[Annotation | None]
    split: NotRequired[Literal["train", "val", "test"]]


@with_config(ConfigDict(extra="forbid"))
class ModelIn(TypedDict):
    """A trained artifact: its file and checksum, the training run, configuration and metrics."""

    name: Name
    plugin: NotRequired[str | None]
    run: NotRequired[str | None]
    file: NotRequired[Id | None]
    checksum: NotRequired[Checksum | None]
    configuration: NotRequired[JsonObject]
    metrics: NotRequired[JsonObject]


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
        name = _namer(where, indexed)
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


#: Items from which a bulk write pauses the cyclic garbage collector (see :func:`bulk_write`).
BULK = 1000


class _CollectorPause:
    """How many bulk writes run now, and whether the collector ran before the first one began."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.writes = 0
        self.was_enabled = False

    def enter(self) -> None:
        with self.lock:
            if self.writes == 0:
                self.was_enabled = gc.isenabled()
                gc.disable()
            self.writes += 1

    def leave(self) -> None:
        with self.lock:
            self.writes -= 1
            if self.writes == 0 and self.was_enabled:
                gc.enable()


_pause = _CollectorPause()


@contextmanager
def bulk_write(size: int) -> Iterator[None]:
    """Run a write of ``size`` items without the cyclic garbage collector's full passes.

    Validating 100,000 items keeps 100,000 new rows alive; each time they pile up, Python's
    collector rescans every object of the process (the caller's items included): 40% of the
    time of the write. The rows, records and models made here hold no reference cycles, so
    nothing waits for the collector; it runs again when the last concurrent bulk write ends.
    """
    if size < BULK:
        yield
        return
    _pause.enter()
    try:
        yield
    finally:
        _pause.leave()


def _default(value: Any) -> Any:
    if isinstance(value, dict | list) and not value:
        return Field(default_factory=type(value))
    return Field(default=value)


def _nullable(hint: Any) -> bool:
    while typing.get_origin(hint) is Annotated:
        hint = typing.get_args(hint)[0]
    return type(None) in typing.get_args(hint)


def _namer(where: str, indexed: bool) -> ItemName:
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


@functools.cache
def _annotation_list() -> TypeAdapter[list[Any]]:
    """Validates many annotations in one pass, dropping each model as soon as it is checked."""
    from synapse_sdk.formats.dm import AnnotationData

    checked = Annotated[AnnotationData, AfterValidator(lambda _: None)]
    return TypeAdapter(list[checked])


def _annotations(rows: list[dict[str, Any]], name: ItemName) -> None:
    """``data`` is a DM v2 annotation (``docs/annotation-format.md``), every row's in one pass."""
    found = [(index, row["data"]) for index, row in enumerate(rows) if row.get("data") is not None]
    if not found:
        return
    try:
        _annotation_list().validate_python([data for _, data in found])
    except ValidationError as exc:
        from synapse_sdk.formats.dm import validate_annotation

        index, data = found[exc.errors(include_url=False)[0]["loc"][0]]  # type: ignore[index]  # a list position
        validate_annotation(data, where=f"{name(index)}.data")  # raises, naming the item and the field
        raise UsageError(f"{name(index)}.data: {first_error(exc, 'data')}") from None


def _one_primary(rows: list[dict[str, Any]], name: ItemName) -> None:
    """File specifications have unique names, and one of them is primary (the first, unless told)."""
    for index, row in enumerate(rows):
        specs = row.get("file_specifications")
        if not specs:
            continue
        names = [s["name"] for s in specs]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise UsageError(
                f"{name(index)}.file_specifications: {duplicate!r} is named twice; names must be unique"
            )
        primaries = [s["name"] for s in specs if s.get("is_primary")]
        if len(primaries) > 1:
            raise UsageError(
                f"{name(index)}.file_specifications: {', '.join(primaries)} are all primary; "
                "mark exactly one is_primary"
            )
        if not primaries:
            specs[0]["is_primary"] = True


def _storage_configuration(rows: list[dict[str, Any]], name: ItemName) -> None:
    """A storage's configuration is its provider's (``synapse_sdk.storage.config``)."""
    from synapse_sdk.errors import ConfigError
    from synapse_sdk.storage.config import parse_config

    for index, row in enumerate(rows):
        if "configuration" not in row or "provider" not in row:
            continue
        where = f"{name(index)}.configuration"
        try:
            config = parse_config({**row["configuration"], "provider": row["provider"]}, where)
        except ConfigError as exc:
            raise UsageError(str(exc).splitlines()[0]) from None
        row["configuration"] = {k: v for k, v in config.model_dump(mode="json").items() if k != "provider"}


def _keep_secrets(current: Mapping[str, Any], changes: dict[str, Any]) -> None:
    """A configuration sent back as read (secrets as ``***``) keeps the secrets it had."""
    from synapse_sdk._redact import MASK
    from synapse_sdk.storage.config import SECRET_FIELDS

    config = changes.get("configuration")
    if config is None:
        return
    stored = current.get("configuration") or {}
    for key in SECRET_FIELDS.get(current.get("provider", ""), ()):
        if config.get(key) == MASK and key in stored:
            config[key] = stored[key]


def public_storage(record: dict[str, Any]) -> dict[str, Any]:
    """A storage as it is shown anywhere: its secret configuration values as ``***``."""
    from synapse_sdk.storage.config import parse_config, public_config

    config = parse_config({**(record.get("configuration") or {}), "provider": record["provider"]})
    shown = {k: v for k, v in public_config(config).items() if k != "provider"}
    return {**record, "configuration": shown}


def unit_checksum(files: Mapping[str, Mapping[str, Any]]) -> str | None:
    """A data unit's identity: the sha256 of its files' names and checksums (None without files)."""
    if not files:
        return None
    sums = sorted(f"{name}:{entry['checksum']}" for name, entry in files.items())
    return hashlib.sha256("|".join(sums).encode()).hexdigest()


def _unit_checksum(rows: list[dict[str, Any]], name: ItemName) -> None:
    """A data unit is known by its files' content: an import run twice finds the units it made.

    Files given without their checksum get it (and the unit its identity) from their data file
    when the unit is stored.
    """
    for row in rows:
        files = row.get("files")
        if row.get("checksum") is None and files and all("checksum" in entry for entry in files.values()):
            row["checksum"] = unit_checksum(files)


def _safe_path(rows: list[dict[str, Any]], name: ItemName) -> None:
    """A data file's path is a key inside its storage."""
    for index, row in enumerate(rows):
        path = row.get("path")
        if path is not None and (path.startswith("/") or ".." in re.split(r"[/\\]", path) or "\x00" in path):
            raise UsageError(
                f"{name(index)}.path: {path!r} leaves its storage; give a key relative to the storage root"
            )


def _spec(name: str, singular: str, schema: type, **kwargs: Any) -> ResourceSpec:
    fields = tuple(schema.__annotations__)
    return ResourceSpec(name=name, singular=singular, schema=schema, fields=fields, **kwargs)


STORAGES = _spec(
    "storages", "storage", StorageIn,
    defaults={"configuration": {}, "is_default": False},
    json_fields=frozenset({"configuration"}), bool_fields=frozenset({"is_default"}),
    filters=("name", "provider", "is_default"), updatable=("name", "configuration", "is_default"),
    checks=(_storage_configuration,), exclusive=("is_default",), on_update=_keep_secrets,
    present=public_storage,
)  # fmt: skip
DATA_COLLECTIONS = _spec(
    "data_collections", "data collection", DataCollectionIn,
    defaults={"description": "", "file_specifications": []},
    json_fields=frozenset({"file_specifications"}), filters=("name",),
    updatable=("name", "description", "file_specifications"), checks=(_one_primary,),
)  # fmt: skip
DATA_FILES = _spec(
    "data_files", "data file", DataFileIn,
    defaults={"mime_type": None, "name": "", "meta": {}},
    json_fields=frozenset({"meta"}), filters=("storage", "checksum", "path"), updatable=("meta",),
    references={"storage": "storages"}, checks=(_safe_path,),
)  # fmt: skip
DATA_UNITS = _spec(
    "data_units", "data unit", DataUnitIn,
    defaults={"meta": {}, "checksum": None},
    json_fields=frozenset({"files", "meta"}), filters=("data_collection", "checksum"), updatable=("meta",),
    references={"data_collection": "data_collections"}, checks=(_unit_checksum,),
)  # fmt: skip
PROJECTS = _spec(
    "projects", "project", ProjectIn,
    defaults={"description": "", "data_collection": None, "configuration": {}},
    json_fields=frozenset({"configuration"}), filters=("title", "data_collection"),
    updatable=("title", "description", "configuration"), references={"data_collection": "data_collections"},
)  # fmt: skip
TASKS = _spec(
    "tasks", "task", TaskIn,
    defaults={"data_unit": None, "status": "pending", "data": None, "tags": []},
    json_fields=frozenset({"data", "tags"}), filters=("project", "status", "data_unit", "assignment"),
    extra_filters={"assignment": Id},
    updatable=("status", "data", "tags"), references={"project": "projects", "data_unit": "data_units"},
    has_updated_at=True, checks=(_annotations,),
)  # fmt: skip
ASSIGNMENTS = _spec(
    "assignments", "assignment", AssignmentIn,
    defaults={"status": "pending", "annotator": None, "data": None, "started_at": None, "submitted_at": None},
    json_fields=frozenset({"data"}), filters=("project", "status", "task", "annotator"),
    updatable=("status", "annotator", "data", "started_at", "submitted_at"),
    references={"project": "projects", "task": "tasks"}, checks=(_annotations,),
)  # fmt: skip
GROUND_TRUTH_DATASETS = _spec(
    "ground_truth_datasets", "ground-truth dataset", GroundTruthDatasetIn,
    defaults={"project": None, "description": ""}, json_fields=frozenset(),
    filters=("project", "name"), updatable=("name", "description"), references={"project": "projects"},
)  # fmt: skip
GROUND_TRUTH_VERSIONS = _spec(
    "ground_truth_dataset_versions", "ground-truth dataset version", GroundTruthVersionIn,
    defaults={"is_frozen": False}, json_fields=frozenset(), bool_fields=frozenset({"is_frozen"}),
    filters=("dataset", "is_frozen", "version"), updatable=("is_frozen",),
    references={"dataset": "ground_truth_datasets"},
)  # fmt: skip
GROUND_TRUTH_EVENTS = _spec(
    "ground_truth_events", "ground-truth event", GroundTruthEventIn,
    defaults={"data_unit": None, "data": None, "split": "train"},
    json_fields=frozenset({"data"}), filters=("ground_truth_dataset_version", "split", "data_unit"),
    updatable=("data", "split"),
    references={"ground_truth_dataset_version": "ground_truth_dataset_versions", "data_unit": "data_units"},
    checks=(_annotations,),
)  # fmt: skip
MODELS = _spec(
    "models", "model", ModelIn,
    defaults={
        "plugin": None, "run": None, "file": None, "checksum": None, "configuration": {}, "metrics": {},
    },
    json_fields=frozenset({"configuration", "metrics"}), filters=("name", "run", "plugin"),
    updatable=("name", "configuration", "metrics"), references={"run": "runs", "file": "data_files"},
)  # fmt: skip

#: Every platform resource, by name (the order in which they depend on each other).
RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (
        STORAGES, DATA_COLLECTIONS, DATA_FILES, DATA_UNITS, PROJECTS, TASKS, ASSIGNMENTS,
        GROUND_TRUTH_DATASETS, GROUND_TRUTH_VERSIONS, GROUND_TRUTH_EVENTS, MODELS,
    )
}  # fmt: skip
