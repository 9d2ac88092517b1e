"""SQLite plumbing shared by the table store, its rules and its explanations.

Values go in as JSON text (:func:`encode`) or as filter parameters (:func:`filter_value`) and
come back with :func:`decode`; :func:`existing` and :func:`by_id` look up many ids at once, a
chunk of :data:`LOOKUP` per query.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from pydantic_core import from_json, to_json

#: Ids per ``IN (...)`` lookup (well under SQLite's limit of bound variables).
LOOKUP = 5000


def encode(value: Any) -> str:
    """JSON text of a validated value (pydantic-core's encoder: compact, UTF-8, a few times json's speed)."""
    return to_json(value).decode()


def decode(text: str) -> Any:
    """The value of JSON text the store wrote."""
    return from_json(text)


def filter_value(value: Any) -> Any:
    """A filter's value as SQLite compares it: booleans as 0 or 1, lists and objects as JSON text."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return encode(value)
    return value


def existing(conn: sqlite3.Connection, table: str, ids: set[Any]) -> set[Any]:
    """Which of ``ids`` are ids of ``table``."""
    found: set[Any] = set()
    wanted = list(ids)
    for start in range(0, len(wanted), LOOKUP):
        chunk = wanted[start : start + LOOKUP]
        found.update(
            r[0]
            for r in conn.execute(
                f"SELECT id FROM {table} WHERE id IN ({', '.join('?' * len(chunk))})", chunk
            )
        )
    return found


def by_id(conn: sqlite3.Connection, sql: str, ids: set[Any]) -> dict[Any, tuple[Any, ...]]:
    """Rows of ``sql`` (``SELECT id, ... FROM t WHERE id IN ({})``) for ``ids``, by id."""
    found: dict[Any, tuple[Any, ...]] = {}
    wanted = list(ids)
    for start in range(0, len(wanted), LOOKUP):
        chunk = wanted[start : start + LOOKUP]
        for row in conn.execute(sql.format(", ".join("?" * len(chunk))), chunk):
            found[row[0]] = tuple(row)
    return found
