"""Every record of the backend, shared by the embedded store, the HTTP server and its client.

Runs: ``RunStatus``, ``NewRun``, ``RunRecord``, ``LogEntry``, ``EventBatch``. Releases:
``NewRelease``, ``ReleaseRecord``. The data platform: one input schema per resource
(``StorageIn``, ``TaskIn``...; TypedDicts that pydantic validates, see
:mod:`synapse_sdk.backend.spec`) and the field types and values they share. A new resource adds
its records here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, with_config
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

DEFAULT_PROGRESS_CATEGORY = "default"


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

    id: str
    action: str
    plugin_code: str | None = None
    plugin_version: str | None = None
    category: str | None = None
    method: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    is_job: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)


class RunRecord(NewRun):
    """A run as stored, with what it reported so far."""

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
    progress: dict[str, dict[str, float]] = Field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = Field(default_factory=dict)

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
            "is_job": self.is_job,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "heartbeat_at": iso(self.heartbeat_at),
            "pid": self.pid,
            "host": self.host,
        }


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

    code: str
    version: str
    name: str
    category: str
    description: str = ""
    config: dict[str, Any]
    checksum: str
    source_checksum: str
    size: int
    lock: str = ""


class ReleaseRecord(NewRelease):
    """A stored release: where its archive is and when it was published."""

    archive: str
    created_at: float = Field(default=0.0)

    @property
    def uri(self) -> str:
        """``code@version``."""
        return f"{self.code}@{self.version}"


def iso(ts: float | None) -> str | None:
    """Seconds since the epoch as an ISO-8601 UTC string."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


# -- the data platform: what a create of each resource takes ----------------------------------

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Id = Annotated[int, Field(ge=1, le=2**62)]
Checksum = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
#: Free JSON (configuration, metrics, meta): values JSON can hold, checked at the door.
JsonObject = dict[str, JsonValue]
#: An annotation (DM v2, ``docs/annotation-format.md``): checked in full by ``backend.checks``.
Annotation = dict[str, Any]
Timestamp = Annotated[float, Field(ge=0, le=1e11)]

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
