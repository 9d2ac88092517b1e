"""``Run``: the only way an action reports. Buffered, coalesced, never blocks the action, never fails it.

Misuse (a progress over its total, an unknown level, a metric that is not a number) is clamped
or dropped and counted, or raises under the testing kit: see :mod:`.misuse`. Each event is made
storable on its own before a batch is written (:mod:`.sanitise`) and masked with the run's
secrets (:mod:`synapse_sdk._redact`), so one bad event never costs its neighbours.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from synapse_sdk._redact import Masker
from synapse_sdk.backend.schemas import DEFAULT_PROGRESS_CATEGORY, LOG_LEVELS, EventBatch
from synapse_sdk.plugins.run.flusher import FLUSHER
from synapse_sdk.plugins.run.misuse import Misuse, check_metrics, check_progress, strict_from_env
from synapse_sdk.plugins.run.sanitise import clean_data, clean_text, is_plain
from synapse_sdk.plugins.run.sinks import RunSink

logger = logging.getLogger(__name__)

LEVELS = LOG_LEVELS
_LEVEL_ALIASES = {"WARN": "WARNING", "FATAL": "CRITICAL"}
#: Every accepted spelling that needs no ``upper()``: the common case is one dict lookup.
_LEVEL_NAMES = {
    spelling: canonical
    for name, canonical in [*((level, level) for level in LEVELS), *_LEVEL_ALIASES.items()]
    for spelling in (name, name.lower(), name.title())
}
_INF = float("inf")
_NUMBER = (int, float, bool)
LogRow = tuple[float, str, str | None, str | None, Any]
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
    never raises into the action: what it could not store is counted in ``lost``. Misused
    telemetry is clamped or dropped and counted in ``dropped`` (``strict``: it raises; None: as
    ``SYNAPSE_STRICT_TELEMETRY`` says).
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
        strict: bool | None = None,
        attempt: int = 1,
    ) -> None:
        self.id = run_id
        #: Which try of the action this is, from 1: more when config.yaml's ``retry`` tried it again
        #: after a crash, under the same run id and ``path`` (resume from what the last try saved).
        self.attempt = attempt
        self._folder = Path(folder) if folder is not None else None
        self.sinks = list(sinks)
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.heartbeat_interval = heartbeat_interval
        self.start_mark_delay = start_mark_delay
        self._secret_source = secrets
        self._secrets: list[str] | None = None
        self._masker: Masker | None = None
        self.progress_categories = dict(progress_categories or {})
        self.lost = 0
        #: Misused telemetry clamped or dropped, by kind (see :mod:`.misuse`).
        self.dropped: dict[str, int] = {}
        self.strict = strict_from_env() if strict is None else strict
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._logs: list[LogRow] = []
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
        """The values masked in what the run records. Given as a function, it is called once, when
        the first event is flushed (or the run ends): a run that never reports costs nothing."""
        if self._secrets is None:
            source = self._secret_source
            try:
                self._secrets = [s for s in (source() if callable(source) else source) if s]
            except Exception:  # noqa: BLE001 - reporting never fails the run; URLs are still masked
                logger.warning("run %s: finding its secrets failed", self.id, exc_info=True)
                self._secrets = []
        return self._secrets

    @property
    def masker(self) -> Masker:
        """Masks the run's secrets and URL passwords in texts and values (logs, error, result)."""
        if self._masker is None:
            self._masker = Masker(self.secrets)
        return self._masker

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
        from synapse_sdk.settings import make_folder

        return make_folder(self.folder)  # one that cannot be made: a BackendError naming it and the fix

    # -- the action-facing API ------------------------------------------------------------------

    def log_message(self, message: str, level: str = "INFO") -> None:
        """Record a log line at ``level`` (DEBUG, INFO, WARNING, ERROR or CRITICAL)."""
        canonical = _LEVEL_NAMES.get(level) if type(level) is str else None
        if canonical is None:
            canonical, message = self._odd_level(message, level)
        text = message if type(message) is str else _text(message)
        self._append_log((time.time(), canonical, text, None, None))

    def log(self, event: str, data: Any = None) -> None:
        """Record a structured event, e.g. ``run.log("model_checkpoint", {"epoch": 10})``."""
        if type(event) is not str or not event:
            problem = f"run.log() needs an event name string, got {event!r}"
            self._misused(Misuse("log_event", problem, "recorded under its text"))
            event = _text(event) or "event"
        self._append_log((time.time(), "INFO", None, event, data))

    def set_progress(self, current: float, total: float, category: str | None = None) -> None:
        """Record that ``current`` of ``total`` units are done, optionally per category."""
        try:
            valid = 0 <= current <= total < _INF and total > 0  # NaN fails every comparison
        except (TypeError, ValueError):  # not numbers, or numpy arrays
            valid = False
        if not valid:
            fixed, misuse = check_progress(current, total)
            self._misused(misuse)
            if fixed is None:
                return
            current, total = fixed
        key = category or DEFAULT_PROGRESS_CATEGORY
        if type(key) is not str:
            key = _text(key)
        with self._lock:
            self._progress[key] = (current, total, time.time())
        if not self._scheduled:
            self._schedule(self.flush_interval)

    def set_metrics(self, values: Mapping[str, Any], category: str = "default") -> None:
        """Record metric values (name -> finite number) under ``category``; every call is kept."""
        if type(values) is dict and values and type(category) is str and category and _numbers(values):
            values = dict(values)
        else:
            values, category, misuses, bad = check_metrics(values, category)
            for misuse in misuses:
                self._misused(misuse, bad if misuse.kind == "metrics_value" else 1)
            if not values:
                return
        entry = (time.time(), category, values)
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
                {
                    "id": id,
                    "file_info": dict(file_info) if isinstance(file_info, Mapping) else file_info,
                    "status": status_value,
                },  # fmt: skip
            )
        )

    def log_data_file(self, file_info: Mapping[str, Any], status: Any) -> None:
        """Record the outcome of one uploaded file (``UploadStatus``: success, skipped, failed)."""
        self._log_outcome("upload_file", file_info, status)

    def log_data_unit(
        self, data_unit_id: Any, status: Any, data_unit_meta: Mapping[str, Any] | None = None
    ) -> None:
        """Record the outcome of one data unit of an upload (created, found already, or failed)."""
        info = {"id": data_unit_id, **(dict(data_unit_meta) if isinstance(data_unit_meta, Mapping) else {})}
        self._log_outcome("upload_data_unit", info, status)

    def _log_outcome(self, event: str, info: Mapping[str, Any], status: Any) -> None:
        status_value = getattr(status, "value", status)
        level = "WARNING" if str(status_value) == "failed" else "INFO"
        self._append_log((time.time(), level, None, event, {**info, "status": status_value}))

    # -- plumbing -------------------------------------------------------------------------------

    def _odd_level(self, message: Any, level: Any) -> tuple[str, Any]:
        """The level of a ``log_message`` call outside the fast path: another spelling of a known
        level, or misuse (recorded at WARNING, the level kept in the text)."""
        upper = _text(level).upper()
        canonical = _LEVEL_ALIASES.get(upper, upper)
        if canonical in LEVELS:
            return canonical, message
        shown = _text(level)
        problem = f"unknown log level {level!r}; use one of {', '.join(LEVELS)}"
        self._misused(Misuse("log_level", problem, f"recorded as WARNING, prefixed [{shown}]"))
        return "WARNING", f"[{shown}] {_text(message)}"

    def _misused(self, misuse: Misuse, count: int = 1) -> None:
        """Raise (strict), or count the misuse and log one WARNING the first time of its kind."""
        if self.strict:
            raise misuse.error(misuse.problem)
        with self._lock:
            first = misuse.kind not in self.dropped
            self.dropped[misuse.kind] = self.dropped.get(misuse.kind, 0) + count
        if first:
            self._append_log((time.time(), "WARNING", misuse.warning(), None, None))

    def _append_log(self, entry: LogRow) -> None:
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
        batch = EventBatch(
            logs=self._cleaned(logs, self._clean_log) if logs else logs,
            progress=self._clean_progress(progress) if progress else progress,
            metrics=self._cleaned(metrics, self._clean_metrics) if metrics else metrics,
            heartbeat=beat,
            started=started,
        )
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

    def _cleaned(self, rows: list[Any], clean: Callable[[Any], Any]) -> list[Any]:
        """Each row made storable and masked on its own: one that cannot be is counted lost, alone."""
        out = []
        for row in rows:
            try:
                out.append(clean(row))
            except Exception:  # noqa: BLE001 - one bad event must not cost the batch
                self.lost += 1
                logger.warning("run %s: an event could not be prepared for storage", self.id, exc_info=True)
        return out

    def _clean_log(self, entry: LogRow) -> LogRow:
        ts, level, message, event, data = entry
        masker = self.masker
        if message is not None and event is None and data is None and not masker and is_plain(message):
            return entry  # a plain log line of a run without secrets: the common case, as it is
        if message is not None:
            message = masker.text(clean_text(message))
        if event is not None:
            event = masker.text(clean_text(event))
        if data is not None:
            data = masker.value(clean_data(data))
        return ts, level, message, event, data

    def _clean_metrics(self, row: tuple[float, str, dict[str, Any]]) -> tuple[float, str, dict[str, Any]]:
        ts, category, values = row
        masker = self.masker
        if not masker and is_plain(category) and all(map(is_plain, values)):
            return row  # names already checked to be text, values finite numbers: nothing to do
        values = {clean_text(name): value for name, value in values.items()}
        return ts, masker.text(clean_text(category)), masker.value(values) if masker else values

    def _clean_progress(
        self, progress: dict[str, tuple[float, float, float]]
    ) -> dict[str, tuple[float, float, float]]:
        out = {}
        masker = self.masker
        for category, (current, total, ts) in progress.items():
            try:
                out[masker.text(clean_text(category))] = (float(current), float(total), ts)
            except Exception:  # noqa: BLE001 - a value float() refuses (a numpy array) is this one's loss
                self.lost += 1
        return out

    def close(self) -> dict[str, Any] | None:
        """Flush what is left and stop flushing; safe to call twice.

        Returns the start mark of ``mark_started()`` if it has not been stored yet: whoever
        records the run's end stores it with the final status.
        """
        if self._closed:
            return None
        self._closed = True
        FLUSHER.remove(self)
        if self.dropped:
            with self._lock:
                self._logs.append((time.time(), "WARNING", None, "telemetry_dropped", dict(self.dropped)))
        with self._flush_lock:  # waits for a flush under way; the end is a status, not a beat
            return self._flush_locked(heartbeat=False, final=True)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _numbers(values: dict[Any, Any]) -> bool:
    """True when every metric is a finite int, float or bool under a text name (the fast check)."""
    for name, value in values.items():
        if type(name) is not str or type(value) not in _NUMBER or value - value != 0:  # NaN, inf: not 0
            return False
    return True


def _text(value: Any) -> str:
    """``str(value)``, or its plain repr when its ``__str__`` itself fails: reporting never fails."""
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - an author's broken __str__ is no reason to fail the run
        return object.__repr__(value)
