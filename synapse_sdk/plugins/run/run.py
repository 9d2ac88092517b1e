"""``Run``: the only way an action reports. Buffered, coalesced, never blocks the action."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from synapse_sdk._redact import mask_text
from synapse_sdk.backend.schemas import DEFAULT_PROGRESS_CATEGORY, EventBatch
from synapse_sdk.plugins.run.flusher import FLUSHER
from synapse_sdk.plugins.run.sinks import RunSink

logger = logging.getLogger(__name__)

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LEVEL_ALIASES = {"WARN": "WARNING", "FATAL": "CRITICAL"}
#: Above this many buffered entries (a sink far behind) new entries are dropped and counted.
MAX_BUFFERED = 1_000_000
#: Seconds between heartbeats of a run that reports nothing else.
HEARTBEAT_INTERVAL = 2.0
#: Seconds between ``mark_started()`` and the flush that stores it: a run that ends sooner
#: (a short task) stores its start with its end, in one write instead of two.
START_MARK_DELAY = 0.02


class Run:
    """Records an action's logs, progress and metrics.

    Calls only append to an in-memory buffer; the process's flusher thread sends it to the
    sinks every ``flush_interval`` seconds, when it grows past ``batch_size``, and ``close()``
    sends the rest. Progress is coalesced to the latest value per category. A sink that fails
    never raises into the action: what it could not store is counted in ``lost``.
    """

    def __init__(
        self,
        run_id: str,
        sinks: Iterable[RunSink] = (),
        *,
        flush_interval: float = 0.2,
        batch_size: int = 5000,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        start_mark_delay: float = START_MARK_DELAY,
        secrets: Iterable[str] | Callable[[], Iterable[str]] = (),
        progress_categories: Mapping[str, str] | None = None,
        folder: str | Path | None = None,
    ) -> None:
        self.id = run_id
        self._folder = Path(folder) if folder is not None else None
        self.sinks = list(sinks)
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.heartbeat_interval = heartbeat_interval
        self.start_mark_delay = start_mark_delay
        self._secret_source = secrets
        self._secrets: list[str] | None = None
        self.progress_categories = dict(progress_categories or {})
        self.lost = 0
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._logs: list[tuple[float, str, str | None, str | None, Any]] = []
        self._progress: dict[str, tuple[float, float, float]] = {}
        self._metrics: list[tuple[float, str, dict[str, Any]]] = []
        self._started: dict[str, Any] | None = None
        self._closed = False
        self._scheduled = False
        self._last_heartbeat = 0.0
        #: The thread inside ``flush()`` right now: what it prints (a sink's warning) is not the action's.
        self.flushing_thread: int | None = None
        #: Called once when the store answers a flush with "stop requested" (a worker sets it to
        #: stop itself: no signal reaches a worker on another host).
        self.on_stop_requested: Callable[[], None] | None = None
        self._stop_seen = False

    @property
    def secrets(self) -> list[str]:
        """The values masked in logs. Given as a function, it is called only when there are logs
        to mask: finding them costs a run that logs nothing (a short task) nothing."""
        if self._secrets is None:
            source = self._secret_source
            self._secrets = [s for s in (source() if callable(source) else source) if s]
        return self._secrets

    @property
    def folder(self) -> Path:
        """Where the run's working folder is (``SYNAPSE_HOME/runs/<id>/`` unless the executor chose
        another), whether or not it exists yet."""
        if self._folder is None:
            from synapse_sdk.settings import Settings

            self._folder = Settings.from_env().runs_dir / self.id
        return self._folder

    @property
    def path(self) -> Path:
        """The run's own working folder: where the action writes what it makes (checkpoints,
        models, reports). Created on first use; ``synapse job get`` shows it and
        ``synapse job prune`` frees it."""
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    # -- the action-facing API ------------------------------------------------------------------

    def log_message(self, message: str, level: str = "INFO") -> None:
        """Record a log line at ``level`` (DEBUG, INFO, WARNING, ERROR or CRITICAL)."""
        level = _normalise_level(level)
        self._append_log((time.time(), level, str(message), None, None))

    def log(self, event: str, data: Any = None) -> None:
        """Record a structured event, e.g. ``run.log("model_checkpoint", {"epoch": 10})``."""
        if not isinstance(event, str) or not event:
            raise ValueError(f"run.log() needs an event name string, got {event!r}")
        self._append_log((time.time(), "INFO", None, event, data))

    def set_progress(self, current: float, total: float, category: str | None = None) -> None:
        """Record that ``current`` of ``total`` units are done, optionally per category."""
        if not (isinstance(current, int | float) and isinstance(total, int | float)):
            raise TypeError(f"set_progress() needs numbers, got current={current!r}, total={total!r}")
        if total <= 0 or current < 0 or current > total:
            raise ValueError(
                f"set_progress() needs 0 <= current <= total and total > 0, "
                f"got current={current}, total={total}"
            )
        key = category or DEFAULT_PROGRESS_CATEGORY
        with self._lock:
            self._progress[key] = (current, total, time.time())
        if not self._scheduled:
            self._schedule(self.flush_interval)

    def set_metrics(self, values: Mapping[str, Any], category: str = "default") -> None:
        """Record metric values (name -> number) under ``category``; every call is kept."""
        if not isinstance(values, Mapping) or not values:
            raise ValueError(f"set_metrics() needs a non-empty mapping of name -> value, got {values!r}")
        if not isinstance(category, str) or not category:
            raise ValueError(f"set_metrics() needs a category name, got {category!r}")
        entry = (time.time(), category, dict(values))
        with self._lock:
            if len(self._metrics) >= MAX_BUFFERED:
                self.lost += 1
                return
            self._metrics.append(entry)
            full = len(self._metrics) >= self.batch_size
        if full or not self._scheduled:
            self._schedule(0 if full else self.flush_interval)

    def export_log_json_file(self, id: Any, file_info: Mapping[str, Any], status: Any) -> None:  # noqa: A002 - the spec's name
        """Record the outcome of one exported file (``ExportStatus``) for the export report."""
        status_value = getattr(status, "value", status)
        self._append_log(
            (
                time.time(),
                "INFO" if str(status_value) == "success" else "WARNING",
                None,
                "export_file",
                {"id": id, "file_info": dict(file_info), "status": status_value},
            )
        )

    # -- plumbing -------------------------------------------------------------------------------

    def _append_log(self, entry: tuple[float, str, str | None, str | None, Any]) -> None:
        with self._lock:
            if len(self._logs) >= MAX_BUFFERED:
                self.lost += 1
                return
            self._logs.append(entry)
            full = len(self._logs) >= self.batch_size
        if full or not self._scheduled:
            self._schedule(0 if full else self.flush_interval)

    def _schedule(self, delay: float) -> None:
        """Have the flusher flush this run within ``delay`` seconds, then every interval."""
        if self._closed:
            return
        self._scheduled = True
        FLUSHER.schedule(self, delay)

    def start_heartbeat(self) -> None:
        """Flush on the interval from now on, so an action that reports nothing still heartbeats."""
        self._schedule(self.flush_interval)

    def mark_started(self, fields: Mapping[str, Any]) -> None:
        """Record that the run began (``started_at``, ``host``, ``pid``...): PENDING -> RUNNING.

        The mark goes out with a flush ``start_mark_delay`` seconds later, beside the action; if
        the run ends before that, ``close()`` hands the mark back so that the final status
        carries it, in one write.
        """
        with self._lock:
            self._started = dict(fields)
        self._schedule(min(self.start_mark_delay, self.flush_interval))

    def flush_due(self) -> None:
        """The flusher's call: flush unless the run has closed meanwhile."""
        with self._flush_lock:
            if not self._closed:
                self._flush_locked(heartbeat=True, final=False)

    def flush(self, heartbeat: bool = True) -> None:
        """Send everything buffered to the sinks now, with a heartbeat when one is due."""
        with self._flush_lock:
            self._flush_locked(heartbeat, final=False)

    def _flush_locked(self, heartbeat: bool, final: bool) -> dict[str, Any] | None:
        self.flushing_thread = threading.get_ident()
        try:
            return self._flush(heartbeat, final)
        finally:
            self.flushing_thread = None

    def _flush(self, heartbeat: bool, final: bool) -> dict[str, Any] | None:
        """Send one batch; returns the start mark when it was not stored (see ``close()``)."""
        with self._lock:
            logs, self._logs = self._logs, []
            progress, self._progress = self._progress, {}
            metrics, self._metrics = self._metrics, []
            started, self._started = self._started, None
        now = time.time()
        beat = None
        if heartbeat and now - self._last_heartbeat >= self.heartbeat_interval:
            beat = self._last_heartbeat = now
        if not (logs or progress or metrics or beat or (started and not final)):
            return started
        if logs and self.secrets:
            logs = [self._mask(entry) for entry in logs]
        batch = EventBatch(logs=logs, progress=progress, metrics=metrics, heartbeat=beat, started=started)
        stored = True
        for index, sink in enumerate(self.sinks):
            try:
                if sink.write(self.id, batch) and index == 0:
                    self._stop_requested()
            except Exception:
                if index == 0:
                    self.lost += len(batch)
                    stored = False
                logger.warning("run %s: sink %r failed", self.id, sink, exc_info=True)
        if started and not stored:  # a start mark is not an event to lose: it goes out again
            if final:
                return started
            with self._lock:
                self._started = self._started or started
        return None

    def _stop_requested(self) -> None:
        if self._stop_seen or self._closed or self.on_stop_requested is None:
            return
        self._stop_seen = True
        self.on_stop_requested()

    def _mask(
        self, entry: tuple[float, str, str | None, str | None, Any]
    ) -> tuple[float, str, str | None, str | None, Any]:
        ts, level, message, event, data = entry
        if message is not None:
            message = mask_text(message, self.secrets)
        if data is not None:
            text = json.dumps(data, default=str)
            masked = mask_text(text, self.secrets)
            if masked != text:
                data = json.loads(masked)
        return ts, level, message, event, data

    def close(self) -> dict[str, Any] | None:
        """Flush what is left and stop flushing; safe to call twice.

        Returns the start mark of ``mark_started()`` if it has not been stored yet: whoever
        records the run's end stores it with the final status.
        """
        if self._closed:
            return None
        self._closed = True
        FLUSHER.remove(self)
        with self._flush_lock:  # waits for a flush under way; the end is a status, not a beat
            return self._flush_locked(heartbeat=False, final=True)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _normalise_level(level: str) -> str:
    upper = str(level).upper()
    upper = _LEVEL_ALIASES.get(upper, upper)
    if upper not in LEVELS:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}")
    return upper
