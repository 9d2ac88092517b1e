"""Live events of runs, read from the embedded store a poll at a time, cheaply.

:class:`RunFeed` gives one run's events after a position (``status``, ``progress``,
``metrics``, ``log``, then ``end``); :class:`RunsFeed` the runs that changed after a store
change number (``run``). Each poll first makes one key or index lookup of the ``rev`` that every
write to a run sets (migration 0007) and reads nothing more while it is unchanged, so a feed
of an idle run costs one tiny query a poll. The server's event streams
(:mod:`synapse_sdk.backend.server.routes.streams`) and ``synapse job watch`` against the
embedded store (:mod:`synapse_sdk.execution.watch`) both read these.
"""

from __future__ import annotations

import json
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synapse_sdk.backend.schemas import RunRecord, RunStatus
from synapse_sdk.backend.store.listing import matches, statuses
from synapse_sdk.errors import RunNotFound, UsageError

if TYPE_CHECKING:
    from synapse_sdk.backend.store.runs import RunStore

#: Rows of one kind a poll reads at most (a long replay takes several polls, none waiting).
CHUNK = 1000
#: Seconds of progress a category's rate is measured over.
RATE_WINDOW = 10.0
#: Seconds without a change after which an active run's worker is checked (``liveness``).
LIVENESS_EVERY = 2.0


@dataclass(frozen=True)
class RunEvent:
    """One event of a stream: its name, its position (``id``, for resuming) and its JSON data."""

    event: str
    id: str
    data: dict[str, Any]


def position(text: str | None) -> tuple[int, int] | None:
    """``(log_seq, metric_seq)`` of a run stream's event id (``"12.7"``); None when it is not one."""
    if not text:
        return None
    log, sep, metric = text.strip().partition(".")
    if not (sep and log.isdigit() and metric.isdigit() and len(log) <= 19 and len(metric) <= 19):
        return None
    return int(log), int(metric)


def _tail_start(store: RunStore, table: str, run_id: str, tail: int) -> int:
    """The sequence number after which the last ``tail`` rows of ``table`` for the run come."""
    row = store.db.query_one(
        f"SELECT seq FROM {table} WHERE run_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?", (run_id, tail)
    )
    return int(row[0]) if row else 0


class _Rate:
    """A category's progress rate (units a second) over the last ``RATE_WINDOW`` seconds seen."""

    def __init__(self) -> None:
        self.points: deque[tuple[float, float]] = deque()

    def add(self, ts: float, current: float) -> float | None:
        if self.points and (current < self.points[-1][1] or ts < self.points[-1][0]):
            self.points.clear()  # the category started over
        self.points.append((ts, current))
        while len(self.points) > 2 and ts - self.points[1][0] >= RATE_WINDOW:
            self.points.popleft()
        (t0, c0), (t1, c1) = self.points[0], self.points[-1]
        return (c1 - c0) / (t1 - t0) if t1 > t0 else None


def progress_data(
    category: str, current: float, total: float, updated_at: float, rate: float | None
) -> dict[str, Any]:
    """The data of a ``progress`` event: the value, its percent, rate and seconds left (ETA)."""
    if current >= total:
        eta: float | None = 0.0
    elif rate is not None and rate > 0:
        eta = round((total - current) / rate, 1)
    else:
        eta = None
    return {
        "category": category, "current": current, "total": total,
        "percent": round(100.0 * current / total, 2) if total > 0 else 0.0,
        "updated_at": updated_at, "rate": None if rate is None else round(rate, 4), "eta": eta,
    }  # fmt: skip


class RunFeed:
    """The events of one run after a position; :meth:`poll` returns what is new since the last.

    ``after_log`` / ``after_metric`` resume after those sequence numbers (a stream's last event
    id); otherwise ``log_tail`` / ``metric_tail`` start with only the last so many (None: all).
    ``liveness`` reconciles an active record with its worker's life (e.g.
    :func:`~synapse_sdk.execution.base.reconcile`); it is called when the run has been quiet
    for ``LIVENESS_EVERY`` seconds, so that a worker that died unrecorded still ends the feed.
    The first poll raises ``RunNotFound`` if there is no such run.
    """

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        *,
        after_log: int = 0,
        after_metric: int = 0,
        log_tail: int | None = None,
        metric_tail: int | None = None,
        liveness: Callable[[RunRecord], RunRecord] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        import time

        self.store, self.run_id = store, run_id
        self.after_log, self.after_metric = after_log, after_metric
        self._tails = (log_tail, metric_tail) if (after_log, after_metric) == (0, 0) else (None, None)
        self.liveness = liveness
        self._clock = clock or time.monotonic
        self._rev: int | None = None
        self._shown: dict[str, Any] | None = None
        self._progress: dict[str, tuple[float, float, float]] = {}
        self._rates: dict[str, _Rate] = {}
        self._quiet_since = self._clock()
        #: True when the last poll stopped at a full chunk: poll again without waiting.
        self.pending = False
        #: True once ``end`` was returned (or the run was deleted): nothing more will come.
        self.ended = False
        self.record: RunRecord | None = None

    @property
    def position(self) -> str:
        """The id of the events returned so far: ``"<log_seq>.<metric_seq>"``."""
        return f"{self.after_log}.{self.after_metric}"

    def poll(self) -> list[RunEvent]:
        """What changed since the last poll ([] when nothing did: one key lookup)."""
        if self.ended:
            return []
        row = self.store.db.query_one("SELECT rev FROM runs WHERE id = ?", (self.run_id,))
        if row is None:
            if self._rev is None:
                raise RunNotFound(f"no run or job with id {self.run_id!r}; list them with 'synapse job list'")
            self.ended = True  # deleted while watched
            return [RunEvent("end", self.position, {"status": None, "error": "the run was deleted"})]
        if row[0] == self._rev and not self.pending:
            return self._quiet()
        self._rev = row[0]
        self._quiet_since = self._clock()
        return self._read()

    def _quiet(self) -> list[RunEvent]:
        """Nothing changed: now and then, ask ``liveness`` whether the worker still lives."""
        record = self.record
        if (
            self.liveness is None or record is None or record.status.is_terminal
            or self._clock() - self._quiet_since < LIVENESS_EVERY
        ):  # fmt: skip
            return []
        self._quiet_since = self._clock()
        if self.liveness(record).status.is_terminal:  # declared lost: that wrote the run, read it
            self._rev = None
            return self._read()
        return []

    def _read(self) -> list[RunEvent]:
        store, run_id = self.store, self.run_id
        row = store.db.query_one("SELECT * FROM runs WHERE id = ?", (run_id,))
        if row is None:
            return []
        record = self.record = store._record(row, summary=True)  # read first: logs before its end come after
        self._rev = row["rev"]
        events: list[RunEvent] = []
        shown = record.model_dump(mode="json", exclude={"metrics", "progress", "heartbeat_at"})
        if shown != self._shown:
            self._shown = shown
            events.append(
                RunEvent("status", self.position, record.model_dump(mode="json", exclude={"metrics"}))
            )
        log_tail, metric_tail = self._tails
        if log_tail is not None:
            self.after_log = _tail_start(store, "run_logs", run_id, log_tail)
        if metric_tail is not None:
            self.after_metric = _tail_start(store, "run_metrics", run_id, metric_tail)
        self._tails = (None, None)
        logs = store.db.query(
            "SELECT seq, ts, level, message, event, data FROM run_logs WHERE run_id = ? AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (run_id, self.after_log, CHUNK),
        )
        for seq, ts, level, message, event, data in logs:
            self.after_log = seq
            events.append(RunEvent("log", self.position, _log(seq, ts, level, message, event, data)))
        metrics = store.db.query(
            "SELECT seq, category, ts, data FROM run_metrics WHERE run_id = ? AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (run_id, self.after_metric, CHUNK),
        )
        for seq, category, ts, data in metrics:
            self.after_metric = seq
            events.append(
                RunEvent(
                    "metrics",
                    self.position,
                    {"seq": seq, "category": category, "ts": ts, "values": _values(data)},
                )
            )
        for category, current, total, updated_at in store.db.query(
            "SELECT category, current, total, updated_at FROM run_progress"
            " WHERE run_id = ? ORDER BY category",
            (run_id,),
        ):
            value = (float(current), float(total), float(updated_at))
            if self._progress.get(category) == value:
                continue
            self._progress[category] = value
            rate = self._rates.setdefault(category, _Rate()).add(value[2], value[0])
            events.append(RunEvent("progress", self.position, progress_data(category, *value, rate)))
        self.pending = len(logs) == CHUNK or len(metrics) == CHUNK
        if record.status.is_terminal and not self.pending:
            self.ended = True
            events.append(
                RunEvent("end", self.position, {"status": record.status.value, "error": record.error})
            )
        return events


def _log(seq: int, ts: Any, level: Any, message: Any, event: Any, data: str | None) -> dict[str, Any]:
    """A log row as a ``log`` event's data (a row of unexpected types as the store reads it)."""
    if isinstance(ts, float) and isinstance(level, str) and isinstance(message, str | None) and isinstance(
        event, str | None
    ):  # fmt: skip
        try:
            value = None if data is None else json.loads(data)
        except (ValueError, TypeError, RecursionError):
            value = None
        return {"seq": seq, "ts": ts, "level": level, "message": message, "event": event, "data": value}
    from synapse_sdk.backend.store.runs import _log_entry

    return _log_entry(seq, ts, level, message, event, data).model_dump(mode="json")


def _values(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text is not None else {}
    except (ValueError, TypeError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def store_rev(store: RunStore) -> int:
    """The store's change number: the ``rev`` of the run written last (0: none yet)."""
    row = store.db.query_one("SELECT MAX(rev) FROM runs")
    return int(row[0]) if row and row[0] is not None else 0


#: Runs a list feed remembers (to tell a status change from progress, and which it has shown).
REMEMBERED = 10_000


class RunsFeed:
    """The runs that changed after store change number ``after`` (None: from now), each once a
    poll in its latest state, as ``run`` events; ``status`` (one or several), ``plugin`` and
    ``action`` filter like the runs list (a run shown once is shown again when it leaves the
    status filter, so a page can drop it)."""

    def __init__(
        self,
        store: RunStore,
        after: int | None = None,
        *,
        status: RunStatus | str | Iterable[RunStatus | str] | None = None,
        plugin: str | None = None,
        action: str | None = None,
    ) -> None:
        if after is not None and not 0 <= after < 2**63:
            raise UsageError(f"after: {after} is out of range; pass the X-Runs-Rev of a runs listing")
        self.store = store
        self.after = store_rev(store) if after is None else after
        self.start = self.after
        self.status, self.plugin, self.action = statuses(status), plugin, action
        self._seen: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        self.pending = False

    def changed(self) -> bool:
        """True when some run changed after the last poll (one index lookup)."""
        return self.pending or store_rev(self.store) > self.after

    def poll(self) -> list[RunEvent]:
        """The runs changed since the last poll ([] when none)."""
        where, args = ["rev > ?"], list[Any]([self.after])
        if self.plugin is not None:
            where.append("plugin_code = ?")
            args.append(self.plugin)
        if self.action is not None:
            where.append("action = ?")
            args.append(self.action)
        rows = self.store.db.query(
            f"SELECT * FROM runs WHERE {' AND '.join(where)} ORDER BY rev LIMIT ?", (*args, CHUNK)
        )
        self.pending = len(rows) == CHUNK
        events = []
        for row in rows:
            self.after = rev = int(row["rev"])
            record = self.store._record(row, summary=True)
            known = self._seen.get(record.id)
            if not matches(record, self.status, None, None) and known is None:
                continue
            progress = {c: (p["current"], p["total"]) for c, p in record.progress.items()}
            if known is None:
                change = "created" if int(row["created_rev"]) > self.start else "updated"
            elif known[0] != record.status.value:
                change = "status"
            elif known[1] != progress:
                change = "progress"
            else:
                change = "updated"
            self._seen[record.id] = (record.status.value, progress)
            self._seen.move_to_end(record.id)
            while len(self._seen) > REMEMBERED:
                self._seen.popitem(last=False)
            events.append(
                RunEvent(
                    "run", str(rev), {"change": change, "rev": rev, "run": record.model_dump(mode="json")}
                )
            )
        return events
