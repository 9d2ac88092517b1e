"""Where a run's events go: the ``RunSink`` protocol and its implementations."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from synapse_sdk.backend.schemas import EventBatch

if TYPE_CHECKING:
    from synapse_sdk.backend.store.runs import RunStore


@runtime_checkable
class RunSink(Protocol):
    """Receives a run's coalesced events; may raise, the run counts what it could not store."""

    def write(self, run_id: str, batch: EventBatch) -> bool | None:
        """Store or show one batch; a store may answer True: a stop of the run was requested."""


class BackendSink:
    """Writes events into a run backend (the embedded store or the HTTP client)."""

    def __init__(self, backend: RunStore) -> None:
        self.backend = backend

    def write(self, run_id: str, batch: EventBatch) -> bool:
        return self.backend.write_events(run_id, batch)


class MemorySink:
    """Keeps every batch in memory; for tests and for in-process observers."""

    def __init__(self) -> None:
        self.batches: list[EventBatch] = []
        self._lock = threading.Lock()

    def write(self, run_id: str, batch: EventBatch) -> None:
        with self._lock:
            self.batches.append(batch)

    @property
    def logs(self) -> list[tuple[object, ...]]:
        """Every log row written so far."""
        return [row for b in self.batches for row in b.logs]


class CallbackSink:
    """Hands each batch to a function, e.g. the CLI's live progress display."""

    def __init__(self, callback: Callable[[str, EventBatch], None]) -> None:
        self.callback = callback

    def write(self, run_id: str, batch: EventBatch) -> None:
        self.callback(run_id, batch)
