"""The ``Executor`` protocol: one small adapter per place an action can run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from synapse_sdk.backend.schemas import NewRun, RunRecord
    from synapse_sdk.execution.runner import Prepared
    from synapse_sdk.plugins.run.sinks import RunSink


class Executor(Protocol):
    """Runs a prepared action somewhere and records it in the run backend."""

    def run(self, prepared: Prepared, observers: list[RunSink]) -> Any:
        """Run to the end, showing events to ``observers``; return the result or raise."""

    def submit(self, prepared: Prepared, record: NewRun) -> RunRecord:
        """Start it in the background under ``record.id`` and return at once."""
