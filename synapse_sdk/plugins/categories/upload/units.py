"""Data units and tasks of an upload: those an earlier (killed) run made are found, never duplicated.

A data unit is known by its files' content (``unit_checksum``), unique per data collection; a
task by its data unit, unique per project. Each batch looks them up first and creates only the
rest; another upload creating the same records meanwhile is a conflict resolved by taking theirs
(as the importer does: ``clients/backend/imports/batches.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from synapse_sdk.clients.backend.imports.lookup import find
from synapse_sdk.errors import ResourceConflict

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient


def ensure_data_units(
    client: BackendClient, collection: int, rows: Sequence[dict[str, Any]], batch_size: int
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """The data units of ``rows`` (each with its ``checksum``) by checksum, and the checksums of those
    created here (the others existed)."""
    wanted = list(dict.fromkeys(row["checksum"] for row in rows))
    by_sum = _units(client, collection, wanted)
    created: set[str] = set()
    new = list({row["checksum"]: row for row in rows if row["checksum"] not in by_sum}.values())
    for start in range(0, len(new), batch_size):
        chunk = new[start : start + batch_size]
        try:
            made = client.create_data_units(chunk)
        except ResourceConflict:  # another upload created some of them meanwhile: take theirs
            by_sum.update(_units(client, collection, [row["checksum"] for row in chunk]))
            rest = [row for row in chunk if row["checksum"] not in by_sum]
            made = client.create_data_units(rest) if rest else []
        created.update(unit["checksum"] for unit in made)
        by_sum.update((unit["checksum"], unit) for unit in made)
    return by_sum, created


def ensure_tasks(client: BackendClient, project: int, unit_ids: Sequence[int]) -> int:
    """A task per data unit in ``project``; returns how many were created (the rest existed)."""
    ids = list(dict.fromkeys(unit_ids))
    have = {task["data_unit"] for task in find(client.list_tasks, {"project": project}, "data_unit", ids)}
    new = [{"project": project, "data_unit": unit} for unit in ids if unit not in have]
    if not new:
        return 0
    try:
        return len(client.create_tasks(new))
    except ResourceConflict:  # another upload created some of them meanwhile
        again = {
            task["data_unit"] for task in find(client.list_tasks, {"project": project}, "data_unit", ids)
        }
        rest = [task for task in new if task["data_unit"] not in again]
        return len(client.create_tasks(rest)) if rest else 0


def _units(client: BackendClient, collection: int, checksums: list[str]) -> dict[str, dict[str, Any]]:
    found = find(client.list_data_units, {"data_collection": collection}, "checksum", checksums)
    return {unit["checksum"]: unit for unit in found}
