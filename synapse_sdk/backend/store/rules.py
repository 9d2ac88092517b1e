"""Rules across tables that the store checks inside the write's transaction.

Before an insert (:data:`BEFORE_INSERT`): a data unit's files exist, are the ones its collection
specifies, and carry their path and sha256. After an insert (:data:`AFTER_INSERT`, on the rows
just written): a task's data unit belongs to its project's collection, an assignment is in its
task's project; a broken rule raises :class:`Inconsistent`, which rolls the write back and whose
message names the item and the field. Before a delete (:data:`BEFORE_DELETE`): what still uses
a data file (data units name theirs inside JSON, where no foreign key reaches).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from synapse_sdk.backend.checks import unit_checksum
from synapse_sdk.backend.spec import ItemName
from synapse_sdk.backend.store.sql import by_id, decode
from synapse_sdk.errors import UsageError, did_you_mean


class Inconsistent(sqlite3.IntegrityError):
    """A row that breaks a rule across tables (a task's data unit from another collection)."""


def unit_files(conn: sqlite3.Connection, rows: list[dict[str, Any]], name: ItemName) -> None:
    """A data unit's files exist, are the ones its collection specifies, and carry their path and sha256."""
    collections = by_id(
        conn,
        "SELECT id, name, file_specifications FROM data_collections WHERE id IN ({})",
        {row["data_collection"] for row in rows},
    )
    files = by_id(
        conn,
        "SELECT id, path, checksum FROM data_files WHERE id IN ({})",
        {f["data_file"] for row in rows for f in row["files"].values()},
    )
    specs_of: dict[int, dict[str, dict[str, Any]]] = {
        cid: {s["name"]: s for s in decode(specs)} for cid, (_, _, specs) in collections.items()
    }
    for index, row in enumerate(rows):
        where, collection = name(index), row["data_collection"]
        if collection not in collections:
            raise UsageError(f"{where}.data_collection: data collection {collection} does not exist")
        specs, title = specs_of[collection], collections[collection][1]
        for key, entry in row["files"].items():
            spec = specs.get(key)
            if specs and spec is None:
                raise UsageError(
                    f"{where}.files.{key}: data collection {title!r} has no file specification {key!r}"
                    f"{did_you_mean(key, specs)}; its specifications: {', '.join(specs)}"
                )
            found = files.get(entry["data_file"])
            if found is None:
                raise UsageError(
                    f"{where}.files.{key}.data_file: data file {entry['data_file']} does not exist"
                )
            _, path, checksum = found
            if entry.get("checksum", checksum) != checksum:
                raise UsageError(
                    f"{where}.files.{key}.checksum: data file {entry['data_file']} has sha256 {checksum}, "
                    f"not {entry['checksum']}; leave it out to take the data file's"
                )
            if entry.get("path", path) != path:
                raise UsageError(
                    f"{where}.files.{key}.path: data file {entry['data_file']} is at {path!r}, "
                    f"not {entry['path']!r}; leave it out to take the data file's"
                )
            allowed = [e.lower() for e in (spec or {}).get("extensions") or []]
            suffix = PurePosixPath(path).suffix.lower()
            if allowed and suffix not in allowed:
                raise UsageError(
                    f"{where}.files.{key}: data file {entry['data_file']} is a "
                    f"{suffix or 'file without extension'} file; file specification {key!r} takes "
                    f"{', '.join(allowed)}"
                )
            entry.setdefault("path", path)
            entry.setdefault("checksum", checksum)
        for spec_name, spec in specs.items():
            if spec.get("is_required") and spec_name not in row["files"]:
                raise UsageError(f"{where}.files: {spec_name!r} is required by data collection {title!r}")
        if row.get("checksum") is None:
            row["checksum"] = unit_checksum(row["files"])


def consistent(sql: str, message: Callable[[tuple[Any, ...]], str]) -> Callable[..., None]:
    """A rule across tables checked on the rows just inserted (``sql`` takes the last id before them)."""

    def verify(conn: sqlite3.Connection, before: int, name: ItemName) -> None:
        row = conn.execute(sql, (before,)).fetchone()
        if row is not None:
            raise Inconsistent(f"{name(row[0] - before - 1)}.{message(tuple(row))}")

    return verify


BEFORE_INSERT: dict[str, Callable[[sqlite3.Connection, list[dict[str, Any]], ItemName], None]] = {
    "data_units": unit_files,
}
AFTER_INSERT: dict[str, Callable[[sqlite3.Connection, int, ItemName], None]] = {
    "tasks": consistent(
        "SELECT t.id, t.data_unit, u.data_collection, t.project, p.data_collection FROM tasks AS t "
        "JOIN projects AS p ON p.id = t.project JOIN data_units AS u ON u.id = t.data_unit "
        "WHERE t.id > ? AND p.data_collection IS NOT NULL AND u.data_collection != p.data_collection LIMIT 1",
        lambda r: (
            f"data_unit: data unit {r[1]} is of data collection {r[2]}; project {r[3]} annotates "
            f"data collection {r[4]}"
        ),
    ),
    "assignments": consistent(
        "SELECT a.id, a.task, t.project, a.project FROM assignments AS a JOIN tasks AS t ON t.id = a.task "
        "WHERE a.id > ? AND t.project != a.project LIMIT 1",
        lambda r: f"project: task {r[1]} is in project {r[2]}, not {r[3]}",
    ),
}


def unit_using(conn: sqlite3.Connection, data_file: int) -> str | None:
    """Which data unit names this data file among its files (units refer to files inside JSON)."""
    row = conn.execute(
        "SELECT u.id, f.key FROM data_units AS u, json_each(u.files) AS f "
        "WHERE json_extract(f.value, '$.data_file') = ? LIMIT 1",
        (data_file,),
    ).fetchone()
    return None if row is None else f"data unit {row[0]} holds it as its {row[1]!r} file"


BEFORE_DELETE: dict[str, Callable[[sqlite3.Connection, int], str | None]] = {"data_files": unit_using}
