"""The runs list's filters and keyset cursor: newest first (``created_at`` then ``id``, descending).

A cursor is the last record's ``created_at`` (``repr``, exact) and id joined by ``~``, both
characters a URL leaves alone; a page after it is one range read of an index of migration 0007
(``runs_created_id``, or the status, plugin or action one), so page 200 costs what page 1 does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from synapse_sdk.backend.schemas import RUN_ID, RunRecord, RunStatus
from synapse_sdk.errors import UsageError

#: Most runs one page holds (the HTTP route's bound too).
MAX_PAGE = 1000


def cursor_of(record: RunRecord) -> str:
    """The cursor of the page after ``record``."""
    return f"{record.created_at!r}~{record.id}"


def parse_cursor(cursor: str) -> tuple[float, str]:
    """``(created_at, id)`` of a cursor; anything else is a ``UsageError`` naming ``before``."""
    stamp, sep, run_id = cursor.partition("~")
    try:
        created = float(stamp)
    except ValueError:
        created = math.nan
    if not sep or not math.isfinite(created) or RUN_ID.fullmatch(run_id) is None:
        shown = cursor if len(cursor) <= 60 else cursor[:57] + "..."
        raise UsageError(
            f"before: {shown!r} is not a runs cursor; pass the X-Next-Cursor of the previous page "
            "(or leave it out for the newest runs)"
        )
    return created, run_id


def statuses(status: RunStatus | str | Iterable[RunStatus | str] | None) -> list[str]:
    """The status filter as stored texts ([] for none); an unknown one is a ``UsageError``."""
    if status is None:
        return []
    wanted = [status] if isinstance(status, str) else list(status)
    known = {s.value for s in RunStatus}
    for value in wanted:
        if value not in known:
            raise UsageError(f"status: {value!r} is not a run status; use one of {', '.join(sorted(known))}")
    return sorted({str(RunStatus(v).value) for v in wanted})


def page_queries(
    limit: int,
    status: RunStatus | str | Iterable[RunStatus | str] | None = None,
    *,
    plugin: str | None = None,
    action: str | None = None,
    before: str | None = None,
) -> list[tuple[str, list[Any]]]:
    """The SELECTs of one page and their arguments: one per wanted status (each an index range in
    order; the caller merges them), or one for any status."""
    if not 1 <= limit <= MAX_PAGE:
        raise UsageError(f"limit: {limit} is out of range; ask for 1 to {MAX_PAGE} runs a page")
    cursor = parse_cursor(before) if before is not None else None
    queries = []
    for wanted in list[str | None](statuses(status)) or [None]:
        where, args = _filters(wanted, plugin, action)
        if cursor is not None:
            where.append("(created_at, id) < (?, ?)")
            args += list(cursor)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        queries.append(
            (f"SELECT * FROM runs{clause} ORDER BY created_at DESC, id DESC LIMIT ?", [*args, limit])
        )
    return queries


def _filters(status: str | None, plugin: str | None, action: str | None) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    if status is not None:
        where.append("status = ?")
        args.append(status)
    if plugin is not None:
        where.append("plugin_code = ?")
        args.append(plugin)
    if action is not None:
        where.append("action = ?")
        args.append(action)
    return where, args


def matches(record: RunRecord, status: Iterable[str], plugin: str | None, action: str | None) -> bool:
    """True when ``record`` passes the filters (``status``: stored texts, empty for any)."""
    wanted = set(status)
    return (
        (not wanted or record.status.value in wanted)
        and (plugin is None or record.plugin_code == plugin)
        and (action is None or record.action == action)
    )
