"""Follow a run recorded by another process: stream its new logs and progress to observers."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from synapse_sdk.backend.schemas import EventBatch, RunRecord
from synapse_sdk.plugins.run.sinks import RunSink

if TYPE_CHECKING:
    from synapse_sdk.execution.base import RunHandle

#: Seconds between two polls of the backend (the worker flushes every 0.2 s).
POLL_INTERVAL = 0.1


def result_of(record: RunRecord, where: str = "") -> Any:
    """The result of a run that ended, or the error a CLI that followed it raises.

    A job that refused its input (recorded ``exit_code`` 2) is a ``UsageError``; any other end
    but SUCCEEDED is an ``ExecutionError`` naming the run and how to read its logs.
    """
    from synapse_sdk.backend.schemas import RunStatus
    from synapse_sdk.errors import ExecutionError, UsageError

    if record.status is RunStatus.SUCCEEDED:
        return record.result
    if record.extra.get("exit_code") == UsageError.exit_code:
        raise UsageError(record.error or "the job refused its input")
    raise ExecutionError(
        f"action {record.action!r} {record.status.value.lower()}{where}: "
        f"{record.error or 'no reason recorded'} (run {record.id}; see 'synapse job logs {record.id}')",
        run_id=record.id,
    )


def follow_run(handle: RunHandle, observers: Iterable[RunSink], *, poll: float = POLL_INTERVAL) -> RunRecord:
    """Poll the run's store until it ends, handing observers each new log entry and progress value.

    A worker that died without recording an outcome is noticed (``handle.refresh()``) and the
    run returned FAILED, or STOPPED if a stop was asked. Every log entry stored before the run
    ended is delivered: the logs are drained once more after the terminal status is seen.
    """
    runs, run_id = handle.runs, handle.run_id
    observers = list(observers)
    printed = handle.record.extra.get("environment_log_seq")  # shown while its environment was built
    after = printed if isinstance(printed, int) else 0
    shown: dict[str, tuple[float, float]] = {}
    while True:
        record = handle.refresh()
        entries = runs.get_logs(run_id, after=after)
        if entries:
            after = entries[-1].seq
        progress = {
            cat: (p["current"], p["total"], time.time())
            for cat, p in record.progress.items()
            if shown.get(cat) != (p["current"], p["total"])
        }
        shown.update({cat: (c, t) for cat, (c, t, _) in progress.items()})
        if entries or progress:
            batch = EventBatch(
                logs=[(e.ts, e.level, e.message, e.event, e.data) for e in entries], progress=progress
            )
            for observer in observers:
                observer.write(run_id, batch)
        if record.status.is_terminal and not entries:
            return record
        if not entries:
            time.sleep(poll)
