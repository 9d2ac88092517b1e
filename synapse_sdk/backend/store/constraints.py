"""What a failed SQLite constraint means: our errors, naming the item, the field and the fix.

The table store (:class:`~synapse_sdk.backend.store.resources.SqlResource`) turns every
``sqlite3.IntegrityError`` of a write into one of these: a duplicate (``ResourceConflict``
with the values that clash), a missing reference (``UsageError``: ``tasks[3].project: project
9 does not exist``), a record others still refer to, a frozen ground-truth version, or a rule
across tables (:class:`~synapse_sdk.backend.store.rules.Inconsistent`). A missing id is a
``ResourceNotFound`` saying which command lists the records.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from synapse_sdk.backend.resources import RESOURCES
from synapse_sdk.backend.spec import ItemName, ResourceSpec
from synapse_sdk.backend.store.db import Database
from synapse_sdk.backend.store.rules import Inconsistent
from synapse_sdk.backend.store.sql import existing, filter_value
from synapse_sdk.errors import ResourceConflict, ResourceNotFound, UsageError

#: Where the CLI lists a resource (for the message of a missing id).
_LISTED_BY = {
    "storages": "synapse data storages list",
    "data_collections": "synapse data collections list",
    "data_units": "synapse data data-units list",
    "projects": "synapse data projects list",
    "tasks": "synapse data tasks list",
}


def missing(spec: ResourceSpec, record_id: int) -> ResourceNotFound:
    """``task 12 does not exist; list them with 'synapse data tasks list'``."""
    listed = _LISTED_BY.get(spec.name)
    hint = f"; list them with '{listed}'" if listed else ""
    return ResourceNotFound(f"{spec.singular} {record_id} does not exist{hint}")


def referrers(db: Database, spec: ResourceSpec, record_id: int) -> str:
    """Which records refer to this one (``3 assignments refer to it``)."""
    for other in RESOURCES.values():
        for field, target in other.references.items():
            if target == spec.name:
                row = db.query_one(f"SELECT COUNT(*) FROM {other.name} WHERE {field} = ?", (record_id,))
                if row and row[0]:
                    return f"{row[0]} {other.name.replace('_', ' ')} refer to it ({field} = {record_id})"
    return "other records still refer to it"


def explain(
    db: Database, spec: ResourceSpec, exc: sqlite3.IntegrityError, rows: list[dict[str, Any]], name: ItemName
) -> Exception:
    """Turn a constraint failure into a message naming the item and the field."""
    text = str(exc)
    if "frozen version" in text:
        return _frozen(db, spec, rows, name)
    if text.startswith("UNIQUE constraint failed"):
        columns = [c.split(".")[-1].strip() for c in text.split(":", 1)[1].split(",")]
        index, row = _duplicate(db, spec, rows, columns)
        shown = ", ".join(f"{c}={row.get(c)!r}" for c in columns) if row else ", ".join(columns)
        return ResourceConflict(f"{name(index)}: a {spec.singular} with {shown} exists already")
    if text.startswith("FOREIGN KEY constraint failed"):
        broken = _broken_reference(db, spec, rows, name)
        if broken is not None:
            return broken
        return ResourceConflict(f"{name(0)}: other records still refer to it; remove them first")
    if isinstance(exc, Inconsistent):
        return UsageError(text)
    return UsageError(f"{name(0)}: {text}")


def _frozen(db: Database, spec: ResourceSpec, rows: list[dict[str, Any]], name: ItemName) -> ResourceConflict:
    fix = "create a new version to change its items"
    if spec.name == "ground_truth_dataset_versions":
        return ResourceConflict(f"{name(0)}: the version is frozen: it cannot change or be unfrozen; {fix}")
    frozen = {r[0] for r in db.query("SELECT id FROM ground_truth_dataset_versions WHERE is_frozen = 1")}
    for index, row in enumerate(rows):
        version = row.get("ground_truth_dataset_version")
        if version in frozen:
            return ResourceConflict(
                f"{name(index)}.ground_truth_dataset_version: ground-truth dataset version {version} "
                f"is frozen; {fix}"
            )
    return ResourceConflict(f"{name(0)}: its ground-truth dataset version is frozen; {fix}")


def _duplicate(
    db: Database, spec: ResourceSpec, rows: list[dict[str, Any]], columns: list[str]
) -> tuple[int, dict[str, Any] | None]:
    seen = set()
    clause = " AND ".join(f"{c} IS ?" for c in columns)
    for index, row in enumerate(rows):
        key = tuple(repr(row.get(c)) for c in columns)
        if key in seen:
            return index, row
        seen.add(key)
        args = [filter_value(row.get(c)) for c in columns]
        if db.query_one(f"SELECT 1 FROM {spec.name} WHERE {clause}", args):
            return index, row
    return 0, rows[0] if rows else None


def _broken_reference(
    db: Database, spec: ResourceSpec, rows: list[dict[str, Any]], name: ItemName
) -> UsageError | None:
    """The first row naming a missing record (``tasks[3].project: project 9 does not exist``)."""
    for field, target in spec.references.items():
        wanted = {row[field] for row in rows if row.get(field) is not None}
        found = existing(db.connect(), target, wanted)
        for index, row in enumerate(rows):
            ref = row.get(field)
            if ref is not None and ref not in found:
                what = RESOURCES[target].singular if target in RESOURCES else target.rstrip("s")
                return UsageError(f"{name(index)}.{field}: {what} {ref!r} does not exist")
    return None
