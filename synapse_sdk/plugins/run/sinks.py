"""Where a run's events go: the ``RunSink`` protocol and its implementations."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from synapse_sdk.backend.schemas import EventBatch
from synapse_sdk.errors import RunNotFound

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import RunsResource

#: Seconds a batch waits for its run's record to appear: a worker may start before the
#: process that submitted it has stored the run (a Ray task is dispatched while its owner writes).
RUN_APPEARS_WITHIN = 5.0


@runtime_checkable
class RunSink(Protocol):
    """Receives a run's coalesced events; may raise, the run counts what it could not store."""

    def write(self, run_id: str, batch: EventBatch) -> bool | None:
        """Store or show one batch; a store may answer True: a stop of the run was requested."""


class BackendSink:
    """Writes events into a run backend (the embedded store or the HTTP client).

    A batch for a run that does not exist yet is retried until the run appears, for up to
    ``RUN_APPEARS_WITHIN`` seconds; then it fails, and the run counts its events as lost.
    """

    def __init__(self, runs: RunsResource, appears_within: float = RUN_APPEARS_WITHIN) -> None:
        self.runs = runs
        self.appears_within = appears_within

    def write(self, run_id: str, batch: EventBatch) -> bool:
        deadline, delay = None, 0.01
        while True:
            try:
                return self.runs.write_events(run_id, batch)
            except RunNotFound:
                now = time.monotonic()
                deadline = deadline or now + self.appears_within
                if now + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)


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
