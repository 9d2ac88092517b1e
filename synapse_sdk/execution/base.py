"""What every executor shares: the ``Executor`` and ``RunHandle`` protocols, and handles by kind.

An executor runs a prepared action somewhere (this process, a local worker process, a Ray
job, a Ray task, a Ray Serve app). ``submit()`` returns a ``RunHandle``: the one object that
knows how to tell whether the run's worker is still alive (``refresh``) and how to stop it.
Any later command finds the handle of a stored run with :func:`handle_for`, which looks the
run's kind up in :data:`HANDLES`; nothing else needs to know where a run executes.

One liveness rule holds for every kind: a run whose worker the handle can see (a local
process, a Ray job, a Serve app, a task's owner) lives as long as that worker; a run whose
worker cannot be seen (on another host, on an unreachable cluster) is lost once it has been
silent (no heartbeat) for ``REMOTE_HEARTBEAT_TIMEOUT`` seconds.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from synapse_sdk.backend.schemas import ACTIVE, RunRecord, RunStatus

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import RunsResource
    from synapse_sdk.execution.runner import Prepared
    from synapse_sdk.plugins.run.sinks import RunSink

#: A run that reports from where its handle cannot look is lost after this long without a heartbeat.
REMOTE_HEARTBEAT_TIMEOUT = 15.0

#: The handle class of each kind of run (``record.extra["ray"]["kind"]``; no kind: a local run).
HANDLES: dict[str | None, str] = {
    None: "synapse_sdk.execution.local.jobs:LocalHandle",
    "job": "synapse_sdk.execution.ray.job:RayJobHandle",
    "task": "synapse_sdk.execution.ray.task:RayTaskHandle",
    "serve": "synapse_sdk.execution.serving.ray_serve:RayServeHandle",
}


@dataclass(frozen=True)
class Lost:
    """Why a run's worker is gone, and the status the run ends with (None: FAILED, or STOPPED
    when a stop was asked)."""

    reason: str
    status: RunStatus | None = None


class RunHandle(Protocol):
    """A run as its executor sees it: reconcile its status with its worker's life, or stop it."""

    runs: RunsResource
    record: RunRecord

    @property
    def run_id(self) -> str:
        """The run's id."""

    def refresh(self) -> RunRecord:
        """The run's record, ended as lost first if its worker is gone."""

    def stop(self, grace: float = 10.0) -> RunRecord:
        """Stop the run and return its record once it has ended (``grace``: seconds to end cleanly)."""


class Executor(Protocol):
    """Runs a prepared action somewhere and records it in the run backend."""

    def run(self, prepared: Prepared, observers: list[RunSink]) -> Any:
        """Run to the end, showing events to ``observers``; return the result or raise."""

    def submit(self, prepared: Prepared) -> RunHandle:
        """Start it in the background under ``prepared.invocation.run_id`` and return its handle."""


class BaseHandle:
    """What every handle shares: the run's store and record, and waiting for the end."""

    kind: ClassVar[str | None] = None

    def __init__(self, runs: RunsResource, record: RunRecord) -> None:
        self.runs = runs
        self.record = record

    @property
    def run_id(self) -> str:
        """The run's id."""
        return self.record.id

    def refresh(self) -> RunRecord:
        """The stored record, reconciled with the worker's life (see the module docstring)."""
        record = self.runs.get_run(self.record.id)
        if record.status in ACTIVE:
            lost = self.lost(record)
            if lost is not None:
                from synapse_sdk.execution.lifecycle import declare_lost

                record = declare_lost(self.runs, record, lost.reason, lost.status)
        self.record = record
        return record

    def lost(self, record: RunRecord) -> Lost | None:
        """Why the active ``record`` can never end by itself, or None while its worker lives."""
        return silence(record)

    def stop(self, grace: float = 10.0) -> RunRecord:
        """Stop the run; each kind says how."""
        raise NotImplementedError

    def wait_for_end(self, timeout: float, poll: float = 0.1) -> RunRecord | None:
        """The record once the run has ended (a dead worker noticed on the way), or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = self.refresh()
            if record.status.is_terminal:
                return record
            time.sleep(poll)
        return None


def silence(record: RunRecord, why: str = "") -> Lost | None:
    """The one liveness rule for a run whose worker cannot be seen: lost after a silent spell.

    A RUNNING run's last sign of life is its last heartbeat (or its start); a PENDING run has
    not been heard from at all, and waits for its worker.
    """
    if record.status is not RunStatus.RUNNING:
        return None
    last = record.heartbeat_at or record.started_at
    if last is None:
        return None
    silent = time.time() - last
    if silent <= REMOTE_HEARTBEAT_TIMEOUT:
        return None
    return Lost(f"worker lost: {why}no heartbeat for {silent:.0f}s")


def handle_kind(record: RunRecord) -> str | None:
    """The kind of executor that ran ``record`` (the key of :data:`HANDLES`)."""
    return (record.extra.get("ray") or {}).get("kind")


def handle_for(runs: RunsResource, record: RunRecord) -> RunHandle:
    """The handle of a stored run, by its kind."""
    module, _, name = HANDLES[handle_kind(record)].partition(":")
    cls: type[BaseHandle] = getattr(importlib.import_module(module), name)
    return cls(runs, record)


def reconcile(runs: RunsResource, record: RunRecord) -> RunRecord:
    """``record`` reconciled with its worker's life: an active run whose worker is gone ends lost."""
    if record.status not in ACTIVE:
        return record
    return handle_for(runs, record).refresh()


def stop_run(runs: RunsResource, run_id: str, grace: float = 10.0) -> RunRecord:
    """Stop a run wherever it executes and return its record once it has ended."""
    handle = handle_for(runs, runs.get_run(run_id))
    record = handle.refresh()
    if record.status.is_terminal:
        return record
    return handle.stop(grace)
