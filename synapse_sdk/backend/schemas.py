"""Every record of the backend, shared by the embedded store, the HTTP server and its client.

Runs: ``RunStatus``, ``NewRun``, ``RunRecord``, ``LogEntry``, ``EventBatch``. Releases:
``NewRelease``, ``ReleaseRecord``. A new resource adds its records here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

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
