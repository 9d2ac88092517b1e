"""Every record of the backend, shared by the embedded store, the HTTP server and its client.

Runs: ``RunStatus``, ``NewRun``, ``RunRecord``, ``LogEntry``, ``EventBatch``. Releases:
``NewRelease``, ``ReleaseRecord``. The data platform: one input schema per resource
(``StorageIn``, ``TaskIn``...; TypedDicts that pydantic validates, see
:mod:`synapse_sdk.backend.spec`) and the field types and values they share. A new resource adds
its records here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, NotRequired, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationError,
    model_validator,
    with_config,
)
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

DEFAULT_PROGRESS_CATEGORY = "default"

# -- bounds every record is checked against at the door (HTTP schema and embedded store alike) --

#: A run id (match it whole): what ``--job-id`` accepts, and the 16 hex digits of a generated id.
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
RunId = Annotated[str, StringConstraints(pattern=f"^{RUN_ID.pattern}$")]
#: A name of a plugin, action, category, method, progress or metric category.
Label = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$", max_length=100)]
#: A semantic version; 64 characters hold any real one (a 4,300-digit one broke sorting).
Version = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Timestamp = Annotated[float, Field(ge=0, le=1e11, allow_inf_nan=False)]
Pid = Annotated[int, Field(ge=1, le=2**31 - 1)]
Count = Annotated[int, Field(ge=0, le=2**62)]
#: Text an action reports (a log message, a run's error): twice what the reporting side keeps.
Text = Annotated[str, StringConstraints(max_length=200_000)]
Checksum = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
#: Free JSON (configuration, metrics, meta): values JSON can hold, checked at the door.
JsonObject = dict[str, JsonValue]


class RunStatus(StrEnum):
    """Where a run is in its life; a run only ever moves forward."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    STOPPED = "STOPPED"

    @property
    def is_terminal(self) -> bool:
        """True once the run can change no more."""
        return self in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.STOPPED)


ACTIVE = (RunStatus.PENDING, RunStatus.RUNNING)


class NewRun(BaseModel):
    """What is known of a run when it is created; params must already be redacted."""

    id: RunId
    action: Label
    plugin_code: Code | None = None
    plugin_version: Version | None = None
    category: Label | None = None
    method: Label | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    is_job: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)


#: How a try of a run ended (None while it runs): the action's own end, or its worker dying.
AttemptOutcome = Literal["succeeded", "failed", "stopped", "crashed"]
#: Most tries one run records, and so the most ``retry.max_attempts`` in config.yaml may ask for
#: (Ray's retries may be unbounded; a run's record is not).
MAX_ATTEMPTS = 100


class Attempt(BaseModel):
    """One try of a job's action under its run: when and where it ran, and how it ended.

    A run tried again after a crash (or an error, when its retry policy says so) keeps one
    ``Attempt`` per try, oldest first; ``exit_code`` or ``signal`` says how its worker ended.
    """

    model_config = ConfigDict(extra="forbid")

    number: Annotated[int, Field(ge=1, le=MAX_ATTEMPTS)]
    started_at: Timestamp
    finished_at: Timestamp | None = None
    outcome: AttemptOutcome | None = None
    exit_code: Annotated[int, Field(ge=-255, le=255)] | None = None
    signal: Annotated[str, StringConstraints(max_length=32)] | None = None
    error: Text | None = None
    host: Annotated[str, StringConstraints(max_length=255)] | None = None
    pid: Pid | None = None


class RunFields(BaseModel):
    """The bookkeeping fields of a run an update, transition or start mark may set, with bounds."""

    model_config = ConfigDict(extra="forbid")

    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    heartbeat_at: Timestamp | None = None
    host: Annotated[str, StringConstraints(max_length=255)] | None = None
    pid: Pid | None = None
    pid_started: Annotated[str, StringConstraints(max_length=64)] | None = None
    supervisor_pid: Pid | None = None
    stop_requested: bool = False
    result: JsonValue = None
    error: Text | None = None
    lost_events: Count = 0
    extra: dict[str, JsonValue] = Field(default_factory=dict)
    attempts: list[Attempt] = Field(default_factory=list, max_length=MAX_ATTEMPTS)


def run_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` checked against :class:`RunFields`; a ``ValueError`` naming each bad field."""
    try:
        return RunFields.model_validate(fields).model_dump(include=set(fields))
    except ValidationError as exc:
        raise ValueError(problems(exc)) from None


def problems(exc: ValidationError, limit: int = 5) -> str:
    """``"pid: input should be a valid integer; ..."`` for the first ``limit`` errors of ``exc``."""
    shown = []
    for error in exc.errors(include_url=False)[:limit]:
        msg = error["msg"].removeprefix("Value error, ")
        msg = msg[0].lower() + msg[1:] if msg[:2] != msg[:2].upper() else msg
        where = ".".join(str(p) for p in error["loc"])
        shown.append(f"{where}: {msg}" if where else msg)
    more = exc.error_count() - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more > 0 else "")


class RunRecord(NewRun):
    """A run as stored, with what it reported so far.

    Read with :func:`read_run`: a row that breaks today's rules (written by an older version,
    or by hand) is kept, its unreadable fields at their defaults and named in ``damaged``.
    """

    id: str
    action: str
    plugin_code: str | None = None
    plugin_version: str | None = None
    category: str | None = None
    method: str | None = None
    status: RunStatus
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    heartbeat_at: float | None = None
    host: str | None = None
    pid: int | None = None
    supervisor_pid: int | None = None
    stop_requested: bool = False
    result: Any = None
    error: str | None = None
    lost_events: int = 0
    #: The tries of a job's action, oldest first (empty for a run no supervisor kept count of).
    attempts: list[Attempt] = Field(default_factory=list)
    progress: dict[str, dict[str, float]] = Field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = Field(default_factory=dict)
    damaged: list[str] = Field(default_factory=list)

    @property
    def plugin(self) -> str | None:
        """``code@version`` of the plugin the run belongs to."""
        if not self.plugin_code:
            return None
        return f"{self.plugin_code}@{self.plugin_version}" if self.plugin_version else self.plugin_code

    def to_json(self) -> dict[str, Any]:
        """The public JSON view used by ``synapse job get --json`` and the HTTP API."""
        return {
            "id": self.id,
            "status": self.status.value,
            "action": self.action,
            "plugin": self.plugin,
            "category": self.category,
            "method": self.method,
            "params": self.params,
            "progress": self.progress,
            "metrics": self.metrics,
            "result": self.result,
            "error": self.error,
            "lost_events": self.lost_events,
            "attempts": [attempt_json(a) for a in self.attempts],
            "is_job": self.is_job,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "heartbeat_at": iso(self.heartbeat_at),
            "pid": self.pid,
            "host": self.host,
            **({"damaged": self.damaged} if self.damaged else {}),
        }


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    """The public JSON view of one try (times as ISO text, like the run's own)."""
    data = attempt.model_dump()
    data["started_at"], data["finished_at"] = iso(attempt.started_at), iso(attempt.finished_at)
    return data


def read_run(data: dict[str, Any]) -> RunRecord:
    """A stored run as a record, never an error: fields that cannot be read are reset to their
    defaults and listed in ``damaged`` (an unreadable status reads as FAILED), so that one bad
    row never breaks a listing."""
    try:
        return RunRecord.model_validate(data)
    except ValidationError as exc:
        bad = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
    kept = {k: v for k, v in data.items() if k not in bad and k in RunRecord.model_fields}
    if "status" in bad:
        kept["status"] = RunStatus.FAILED
    kept["id"], kept["action"] = str(data.get("id", "?")), str(data.get("action", "?"))
    kept.setdefault("created_at", 0.0)
    try:
        record = RunRecord.model_validate({**kept, "damaged": bad})
    except ValidationError:  # a field valid alone but not in this company: keep only the basics
        record = RunRecord(
            id=kept["id"],
            action=kept["action"],
            status=RunStatus.FAILED,
            created_at=0.0,
            damaged=bad or ["?"],
        )
    return record


class LogEntry(BaseModel):
    """One log line or structured event of a run."""

    seq: int
    ts: float
    level: str
    message: str | None = None
    event: str | None = None
    data: Any = None

    def to_json(self) -> dict[str, Any]:
        """The JSON view with an ISO time."""
        return {**self.model_dump(), "time": iso(self.ts)}


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)
#: Most rows of one kind in one batch: ten times what a run flushes at once.
MAX_BATCH_ROWS = 50_000
Amount = Annotated[float, Field(ge=0, le=1e300, allow_inf_nan=False)]


class EventsIn(BaseModel):
    """An :class:`EventBatch` as checked at the door: levels, bounds, finite progress."""

    logs: list[tuple[Timestamp, LogLevel, Text | None, Label | None, JsonValue]] = Field(
        default_factory=list, max_length=MAX_BATCH_ROWS
    )
    progress: dict[Label, tuple[Amount, Amount, Timestamp]] = Field(default_factory=dict, max_length=10_000)
    metrics: list[tuple[Timestamp, Label, dict[str, JsonValue]]] = Field(
        default_factory=list, max_length=MAX_BATCH_ROWS
    )
    heartbeat: Timestamp | None = None
    started: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _progress_in_range(self) -> EventsIn:
        for category, (current, total, _) in self.progress.items():
            if total <= 0 or current > total:
                raise ValueError(
                    f"progress.{category}: current {current:g} of total {total:g}; "
                    "the total must be above 0 and the current at most the total"
                )
        if self.started is not None:
            self.started = run_fields(self.started)
        return self


def check_events(batch: EventBatch) -> EventBatch:
    """``batch`` checked against :class:`EventsIn`; a ``ValueError`` naming the first problems."""
    try:
        checked = EventsIn.model_validate(
            {"logs": batch.logs, "progress": batch.progress, "metrics": batch.metrics,
             "heartbeat": batch.heartbeat, "started": batch.started}
        )  # fmt: skip
    except ValidationError as exc:
        raise ValueError(problems(exc)) from None
    logs: list[Any] = checked.logs  # the level is a Literal of str
    return EventBatch(logs, checked.progress, checked.metrics, checked.heartbeat, checked.started)


@dataclass
class EventBatch:
    """Everything a run reported since the last flush, coalesced.

    ``logs`` rows are ``(ts, level, message, event, data)``; ``progress`` keeps only the latest
    ``(current, total, ts)`` per category; ``metrics`` rows are ``(ts, category, values)``.
    ``started`` holds the fields of the run's start (``started_at``, ``host``, ``pid``...): with
    it, a PENDING run becomes RUNNING in the same transaction.
    """

    logs: list[tuple[float, str, str | None, str | None, Any]] = field(default_factory=list)
    progress: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    metrics: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    heartbeat: float | None = None
    started: dict[str, Any] | None = None

    def __len__(self) -> int:
        return len(self.logs) + len(self.progress) + len(self.metrics)


class NewRelease(BaseModel):
    """What ``publish`` sends: a release's metadata (the archive bytes travel beside it)."""

    code: Code
    version: Version
    name: Annotated[str, StringConstraints(max_length=200)]
    category: Label
    description: Annotated[str, StringConstraints(max_length=10_000)] = ""
    config: dict[str, JsonValue]
    checksum: Checksum
    source_checksum: Checksum
    size: Count
    lock: Annotated[str, StringConstraints(max_length=10_000_000)] = ""


class ReleaseRecord(NewRelease):
    """A stored release: where its archive is and when it was published."""

    archive: str
    created_at: float = Field(default=0.0)

    @property
    def uri(self) -> str:
        """``code@version``."""
        return f"{self.code}@{self.version}"


def read_releases(rows: list[dict[str, Any]]) -> tuple[list[ReleaseRecord], list[str]]:
    """The stored releases that can be read, and one line for each that cannot (a listing skips
    a damaged release instead of failing for every plugin)."""
    records, damaged = [], []
    for row in rows:
        try:
            records.append(ReleaseRecord.model_validate(row))
        except ValidationError as exc:
            code, version = str(row.get("code"))[:100], str(row.get("version"))[:64]
            damaged.append(f"release {code}@{version} is damaged and was skipped ({problems(exc, 2)})")
    return records, damaged


def iso(ts: float | None) -> str | None:
    """Seconds since the epoch as an ISO-8601 UTC string."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


# -- the data platform: what a create of each resource takes ----------------------------------

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Id = Annotated[int, Field(ge=1, le=2**62)]
#: An annotation (DM v2, ``docs/annotation-format.md``): checked in full by ``backend.checks``.
Annotation = dict[str, Any]

TASK_STATUSES = ("pending", "in_progress", "completed", "reviewed", "rejected")
ASSIGNMENT_STATUSES = ("pending", "submitted", "approved", "rejected")
SPLITS = ("train", "val", "test")
FILE_TYPES = ("image", "video", "text", "audio", "pcd", "json", "other")
PROVIDERS = ("local", "s3")


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
class Prediction(TypedDict):
    """A model's pre-annotation of a task, kept beside the task's own annotation (never in it).

    ``data`` is DM v2; ``scores`` maps its annotation ids to the model's confidence (0..1);
    ``source`` names the model (``opencv:haarcascade_frontalface_default``, ``plugin:digits@1.0``).
    """

    source: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    data: Annotation
    scores: NotRequired[dict[str, Annotated[float, Field(ge=0, le=1)]]]
    #: The mean score of the prediction (None: the model gives none).
    score: NotRequired[Annotated[float, Field(ge=0, le=1)] | None]
    #: The run that made it.
    run: NotRequired[str | None]


@with_config(ConfigDict(extra="forbid"))
class TaskIn(TypedDict):
    """One data unit to annotate in a project; ``data`` is its annotation (DM v2), ``predictions``
    the pre-annotations models made of it."""

    project: Id
    data_unit: NotRequired[Id | None]
    status: NotRequired[Literal["pending", "in_progress", "completed", "reviewed", "rejected"]]
    data: NotRequired[Annotation | None]
    tags: NotRequired[list[str]]
    predictions: NotRequired[Annotated[list[Prediction], Field(max_length=100)]]


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
