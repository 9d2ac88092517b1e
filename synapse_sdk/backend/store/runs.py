"""Runs and their events in the embedded SQLite store; status changes are compare-and-set.

Every write checks that it hit its run: a transition, an update or an event batch for a run
that does not exist is ``RunNotFound``, and nothing of it is stored.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from synapse_sdk.backend.schemas import (
    EventBatch,
    LogEntry,
    NewRun,
    RunRecord,
    RunStatus,
    check_events,
    read_run,
    run_fields,
)  # fmt: skip
from synapse_sdk.backend.store.db import Database
from synapse_sdk.backend.store.listing import cursor_of, page_queries
from synapse_sdk.errors import RunConflict, RunNotFound, UsageError

_FIELDS = {
    "started_at", "finished_at", "heartbeat_at", "host", "pid", "pid_started", "supervisor_pid",
    "stop_requested", "result", "error", "lost_events", "extra", "attempts",
}  # fmt: skip
_JSON_FIELDS = {"result", "extra", "attempts"}
#: The SET clause per tuple of field names (a run's writes use a handful of the same sets).
_SETS: dict[tuple[str, ...], str] = {}
#: The store's next change number (``rev``): every write to a run sets it (see migration 0007).
NEXT_REV = "COALESCE((SELECT MAX(rev) FROM runs), 0) + 1"


#: One encoder for every stored JSON value (``json.dumps`` with options builds one per call).
_encode = json.JSONEncoder(default=str, ensure_ascii=False).encode


def _dumps(value: Any) -> str:
    return _encode(value)


_STATUSES = frozenset(RunStatus)


def _status(value: RunStatus | str) -> str:
    """A status as stored (a member is its text); text that names no status is a ``UsageError``."""
    if value not in _STATUSES:
        raise UsageError(f"status: {value!r} is not a run status; use one of {', '.join(RunStatus)}")
    return value


def _loads(data: dict[str, Any], name: str, default: Any, damaged: list[str]) -> None:
    """Decode the JSON column ``name`` of ``data`` in place; unreadable JSON is ``default``, noted."""
    text = data[name]
    if text is None:
        data[name] = default
        return
    try:
        data[name] = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        data[name] = default
        damaged.append(name)


def _progress(rows: list[sqlite3.Row], damaged: list[str]) -> dict[str, dict[str, float]]:
    """Each category's current, total and percent; a row no door would pass today (a total of 0,
    not a number) reads as 0 of 1, the record noting ``progress`` as damaged."""
    progress = {}
    for category, current, total in rows:
        try:
            progress[str(category)] = {
                "current": float(current), "total": float(total), "percent": round(100.0 * current / total, 2)
            }  # fmt: skip
            if math.isfinite(progress[str(category)]["percent"]):
                continue
        except (TypeError, ValueError, ArithmeticError):
            pass
        progress[str(category)] = {"current": 0.0, "total": 1.0, "percent": 0.0}
        if "progress" not in damaged:
            damaged.append("progress")
    return progress


def _not_found(run_id: str) -> RunNotFound:
    return RunNotFound(f"no run or job with id {run_id!r}; list them with 'synapse job list'")


class RunStore:
    """The embedded runs resource: one SQLite file under ``SYNAPSE_HOME`` shared by all processes.

    ``db`` is the embedded backend's :class:`Database`, or the path of one to open.
    """

    def __init__(self, db: Database | str | Path) -> None:
        self.db = db if isinstance(db, Database) else Database(db)

    def __repr__(self) -> str:
        return f"RunStore({str(self.db.path)!r})"

    # -- runs -----------------------------------------------------------------------------------

    def create_run(self, new: NewRun, status: RunStatus = RunStatus.PENDING) -> RunRecord:
        """Insert a run, PENDING or RUNNING; an id that exists already is a ``RunConflict``."""
        if RunStatus(_status(status)).is_terminal:
            raise UsageError(f"status: a run starts PENDING or RUNNING, not {RunStatus(status).value}")
        now = time.time()
        try:
            self.db.write_one(
                "INSERT INTO runs (id, plugin_code, plugin_version, category, action, method,"
                " params, status, is_job, created_at, extra, rev, created_rev)"
                f" VALUES (?,?,?,?,?,?,?,?,?,?,?,{NEXT_REV},{NEXT_REV})",
                (
                    new.id, new.plugin_code, new.plugin_version, new.category, new.action,
                    new.method, _dumps(new.params), status.value, int(new.is_job), now,
                    _dumps(new.extra),
                ),
            )  # fmt: skip
        except sqlite3.IntegrityError:
            raise RunConflict(
                f"a run with id {new.id!r} exists already; choose another --job-id "
                f"(see 'synapse job get {new.id}')"
            ) from None
        return RunRecord(**new.model_dump(), status=status, created_at=now)

    def transition(
        self,
        run_id: str,
        expected: Iterable[RunStatus],
        new: RunStatus,
        **fields: Any,
    ) -> bool:
        """Move a run to ``new`` only if it is in one of ``expected``; True if it moved.

        False means the run is in another state; ``RunNotFound`` that there is no such run.
        """
        states = tuple(expected)  # members of a StrEnum are their values to SQLite
        sets, values = self._assignments(fields)
        cur = self.db.write_one(
            f"UPDATE runs SET status = ?{sets}, rev = {NEXT_REV}"
            f" WHERE id = ? AND status IN ({','.join('?' * len(states))})",
            (_status(new), *values, run_id, *states),
        )
        if cur.rowcount == 1:
            return True
        if self.db.query_one("SELECT 1 FROM runs WHERE id = ?", (run_id,)) is None:
            raise _not_found(run_id)
        return False

    def update(self, run_id: str, **fields: Any) -> None:
        """Set bookkeeping fields (pid, heartbeat, stop request...) without touching the status.

        ``RunNotFound`` if there is no such run (no fields: nothing to do, nothing checked).
        """
        if fields:
            sets, values = self._assignments(fields)
            cur = self.db.write_one(
                f"UPDATE runs SET {sets[2:]}, rev = {NEXT_REV} WHERE id = ?", (*values, run_id)
            )
            if cur.rowcount != 1:
                raise _not_found(run_id)

    @staticmethod
    def _assignments(fields: dict[str, Any]) -> tuple[str, list[Any]]:
        """``", a = ?, b = ?"`` and the values for ``fields``, JSON fields encoded."""
        names = tuple(fields)
        sets = _SETS.get(names)
        if sets is None:
            if not fields.keys() <= _FIELDS:
                unknown = ", ".join(sorted(fields.keys() - _FIELDS))
                raise UsageError(f"fields: unknown run fields {unknown}; known: {', '.join(sorted(_FIELDS))}")
            sets = _SETS[names] = "".join(f", {name} = ?" for name in names)
        try:
            fields = run_fields(fields)
        except ValueError as exc:
            raise UsageError(f"fields.{exc}") from None
        return sets, [_dumps(fields[k]) if k in _JSON_FIELDS else fields[k] for k in names]

    def run_status(self, run_id: str) -> RunStatus | None:
        """The status of a run, or None if there is no such run; one cheap read."""
        row = self.db.query_one("SELECT status FROM runs WHERE id = ?", (run_id,))
        return None if row is None else RunStatus(row[0])

    def get_run(self, run_id: str) -> RunRecord:
        """Return a run with its latest progress and metrics; ``RunNotFound`` if there is none."""
        row = self.db.query_one("SELECT * FROM runs WHERE id = ?", (run_id,))
        if row is None:
            raise _not_found(run_id)
        return self._record(row)

    def list_runs(self, limit: int = 50, status: RunStatus | None = None) -> list[RunRecord]:
        """The newest runs first."""
        return self.page_runs(limit, status)[0]

    def page_runs(
        self,
        limit: int = 50,
        status: RunStatus | Iterable[RunStatus] | None = None,
        *,
        plugin: str | None = None,
        action: str | None = None,
        before: str | None = None,
        summary: bool = False,
    ) -> tuple[list[RunRecord], str | None]:
        """One page of runs, newest first, and the cursor of the next (None: this is the last).

        ``status`` (one or several), ``plugin`` (a code) and ``action`` filter; ``before`` is the
        cursor a previous page returned; ``summary`` leaves each record's metrics out (a listing
        does not read a run's metric rows). Keyset paging: any page costs a few index reads.
        """
        rows: list[sqlite3.Row] = []
        for query, args in page_queries(limit, status, plugin=plugin, action=action, before=before):
            rows += self.db.query(query, args)
        rows = sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)[:limit]
        records = [self._record(row, summary=summary) for row in rows]
        return records, (cursor_of(records[-1]) if len(records) == limit else None)

    def _record(self, row: sqlite3.Row, *, summary: bool = False) -> RunRecord:
        """A row as a record; what cannot be read is named in ``damaged`` (see ``read_run``)."""
        data, damaged = dict(row), list[str]()
        run_id = data["id"]
        _loads(data, "params", {}, damaged)
        _loads(data, "extra", {}, damaged)
        _loads(data, "result", None, damaged)
        _loads(data, "attempts", [], damaged)
        data["stop_requested"] = bool(data["stop_requested"])
        data["is_job"] = bool(data["is_job"])
        for private in ("pid_started", "rev", "created_rev"):
            data.pop(private, None)
        data["progress"] = _progress(
            self.db.query("SELECT category, current, total FROM run_progress WHERE run_id = ?", (run_id,)),
            damaged,
        )
        metrics: dict[str, dict[str, Any]] = {}
        for cat, payload in (
            ()
            if summary
            else self.db.query(
                "SELECT category, data FROM run_metrics WHERE run_id = ? ORDER BY seq", (run_id,)
            )
        ):
            try:
                metrics.setdefault(str(cat), {}).update(json.loads(payload))
            except (ValueError, TypeError, RecursionError):
                if "metrics" not in damaged:
                    damaged.append("metrics")
        data["metrics"] = metrics
        record = read_run(data)
        if damaged:
            record.damaged = sorted({*record.damaged, *damaged})
        return record

    def pid_started(self, run_id: str) -> str | None:
        """The start-time fingerprint recorded with the worker pid (guards against pid reuse);
        ``RunNotFound`` if there is no such run."""
        row = self.db.query_one("SELECT pid_started FROM runs WHERE id = ?", (run_id,))
        if row is None:
            raise _not_found(run_id)
        return row[0] if isinstance(row[0], str) else None

    # -- events ---------------------------------------------------------------------------------

    def write_events(self, run_id: str, batch: EventBatch) -> bool:
        """Store a batch of logs, progress and metrics in one transaction (and its start mark).

        Returns True when a stop of the run was requested: the answer a worker on another host
        gets to its heartbeat, since no signal reaches it from here. A batch for a run that does
        not exist is ``RunNotFound`` and stores nothing; a start mark for a run that is no longer
        PENDING changes nothing (the rest of the batch is stored). A batch that breaks the rules
        of :class:`~synapse_sdk.backend.schemas.EventsIn` is a ``UsageError``, and nothing of it
        is stored.
        """
        try:
            batch = check_events(batch)
        except ValueError as exc:
            raise UsageError(f"events: {exc}") from None
        start_sets, start_values = self._assignments(batch.started or {})
        with self.db.write() as conn:
            if batch.logs or batch.progress or batch.metrics or batch.started:  # a change watchers see
                row = conn.execute(
                    f"UPDATE runs SET rev = {NEXT_REV} WHERE id = ? RETURNING stop_requested", (run_id,)
                ).fetchone()
            else:  # a heartbeat alone
                row = conn.execute("SELECT stop_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise _not_found(run_id)
            if batch.started:
                conn.execute(
                    f"UPDATE runs SET status = ?{start_sets} WHERE id = ? AND status = ?",
                    (RunStatus.RUNNING.value, *start_values, run_id, RunStatus.PENDING.value),
                )
            if batch.logs:
                conn.executemany(
                    "INSERT INTO run_logs (run_id, ts, level, message, event, data) VALUES (?,?,?,?,?,?)",
                    [
                        (run_id, ts, level, msg, event, None if data is None else _dumps(data))
                        for ts, level, msg, event, data in batch.logs
                    ],
                )
            if batch.progress:
                conn.executemany(
                    "INSERT INTO run_progress (run_id, category, current, total, updated_at)"
                    " VALUES (?,?,?,?,?) ON CONFLICT (run_id, category) DO UPDATE SET"
                    " current = excluded.current, total = excluded.total,"
                    " updated_at = excluded.updated_at",
                    [(run_id, cat, c, t, ts) for cat, (c, t, ts) in batch.progress.items()],
                )
            if batch.metrics:
                conn.executemany(
                    "INSERT INTO run_metrics (run_id, category, ts, data) VALUES (?,?,?,?)",
                    [(run_id, cat, ts, _dumps(values)) for ts, cat, values in batch.metrics],
                )
            if batch.heartbeat:
                conn.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (batch.heartbeat, run_id))
        return bool(row[0])

    def get_logs(self, run_id: str, after: int = 0, limit: int | None = None) -> list[LogEntry]:
        """Log entries of a run with a sequence number above ``after``, oldest first.

        ``RunNotFound`` if there is no such run (checked only when there are no entries).
        """
        after = min(max(after, 0), 2**63 - 1)
        rows = self.db.query(
            "SELECT seq, ts, level, message, event, data FROM run_logs"
            " WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (run_id, after, -1 if limit is None else limit),
        )
        if not rows and self.db.query_one("SELECT 1 FROM runs WHERE id = ?", (run_id,)) is None:
            raise _not_found(run_id)
        return [
            _log_entry(seq, ts, level, message, event, data) for seq, ts, level, message, event, data in rows
        ]

    def _exists(self, run_id: str) -> None:
        if self.db.query_one("SELECT 1 FROM runs WHERE id = ?", (run_id,)) is None:
            raise _not_found(run_id)

    def count_logs(self, run_id: str) -> int:
        """How many log entries a run has; ``RunNotFound`` if there is no such run."""
        row = self.db.query_one("SELECT COUNT(*) FROM run_logs WHERE run_id = ?", (run_id,))
        if not row or not row[0]:
            self._exists(run_id)
        return int(row[0]) if row else 0

    def metric_history(self, run_id: str, category: str | None = None) -> list[dict[str, Any]]:
        """Every ``set_metrics`` call of a run, oldest first, for charts (a damaged one as ``{}``)."""
        query = "SELECT category, ts, data FROM run_metrics WHERE run_id = ?"
        args: list[Any] = [run_id]
        if category is not None:
            query += " AND category = ?"
            args.append(category)
        rows = self.db.query(query + " ORDER BY seq", args)
        if not rows:
            self._exists(run_id)
        return [{"category": c, "ts": ts, "values": _json_or(d, {})} for c, ts, d in rows]


def _json_or(text: str | None, default: Any) -> Any:
    """``text`` decoded, or ``default`` when it is missing or not JSON (a damaged row)."""
    try:
        return default if text is None else json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return default


def _log_entry(seq: int, ts: Any, level: Any, message: Any, event: Any, data: str | None) -> LogEntry:
    """One stored log row as an entry; a damaged row is shown as such instead of failing the read."""
    try:
        return LogEntry(seq=seq, ts=ts, level=level, message=message, event=event, data=_json_or(data, None))
    except ValueError:
        return LogEntry(seq=seq, ts=0.0, level="ERROR", message="[damaged log entry: cannot be read]")
