"""``synapse data tasks list`` and ``synapse data data-units list``: what projects and collections hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from synapse_sdk.cli.data.lookup import platform_client, resolve
from synapse_sdk.cli.data.output import JSON_HELP, LIMIT_HELP, Column, show

tasks = typer.Typer(help="List the tasks of projects.", no_args_is_help=True)
data_units = typer.Typer(help="List the data units of collections.", no_args_is_help=True)


def _annotation_count(record: dict[str, Any]) -> int:
    data = record.get("data") or {}
    return sum(
        len(items)
        for image in data.get("images") or []
        for items in image.values()
        if isinstance(items, list)
    )


@tasks.command("list")
def tasks_list(
    project: str = typer.Option(None, "--project", help="Only tasks of this project (id or title)."),
    status: str = typer.Option(None, "--status", help="Only tasks in this status, like pending."),
    limit: int = typer.Option(50, "--limit", "-n", min=0, help=LIMIT_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List tasks: their project, data unit, status and how many annotations they hold."""
    from synapse_sdk.backend.schemas import TASK_STATUSES
    from synapse_sdk.errors import UsageError, did_you_mean

    client = platform_client()
    filters: dict[str, Any] = {}
    if project is not None:
        filters["project"] = resolve(client, "project", project, "--project")
    if status is not None:
        if status not in TASK_STATUSES:
            hint = did_you_mean(status, TASK_STATUSES)
            raise UsageError(f"--status {status!r}: expected one of {', '.join(TASK_STATUSES)}{hint}")
        filters["status"] = status
    columns: list[Column] = [
        ("ID", 7, lambda r: r["id"]),
        ("PROJECT", 7, lambda r: r["project"]),
        ("DATA UNIT", 9, lambda r: r.get("data_unit")),
        ("STATUS", 11, lambda r: r["status"]),
        ("ANNOTATIONS", 11, _annotation_count),
        ("UPDATED", 0, lambda r: r.get("updated_at")),
    ]
    hint = "import some with 'synapse data import coco IMAGES_DIR ANNOTATIONS --project NAME'"
    show(client.list_tasks(filters, list_all=True), columns, what="tasks", as_json=as_json, limit=limit,
         empty=hint)  # fmt: skip


def _unit_file(record: dict[str, Any]) -> str:
    meta = record.get("meta") or {}
    if meta.get("file_name"):
        return str(meta["file_name"])
    files = record.get("files") or {}
    return " ".join(f"{spec}:{Path(str(f.get('path', ''))).name}" for spec, f in files.items())


@data_units.command("list")
def data_units_list(
    collection: str = typer.Option(
        None, "--collection", help="Only units of this data collection (id or name)."
    ),
    limit: int = typer.Option(50, "--limit", "-n", min=0, help=LIMIT_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List data units: their collection, file and identity (checksum)."""
    client = platform_client()
    filters: dict[str, Any] = {}
    if collection is not None:
        filters["data_collection"] = resolve(client, "data collection", collection, "--collection")
    columns: list[Column] = [
        ("ID", 7, lambda r: r["id"]),
        ("COLLECTION", 10, lambda r: r["data_collection"]),
        ("CHECKSUM", 12, lambda r: (r.get("checksum") or "")[:12]),
        ("FILE", 0, _unit_file),
    ]
    show(
        client.list_data_units(filters, list_all=True),
        columns,
        what="data units",
        as_json=as_json,
        limit=limit,
    )
