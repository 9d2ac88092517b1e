"""``synapse data collections``: create and list data collections (kinds of data unit)."""

from __future__ import annotations

from typing import Any

import typer

from synapse_sdk.cli.data.lookup import platform_client
from synapse_sdk.cli.data.output import JSON_HELP, Column, created, show

app = typer.Typer(help="Create and list data collections (kinds of data unit).", no_args_is_help=True)


def _spec(value: str) -> dict[str, Any]:
    """``name:file_type[:ext,ext]`` as a file specification."""
    from synapse_sdk.backend.schemas import FILE_TYPES
    from synapse_sdk.errors import UsageError, did_you_mean

    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(parts[:2]):
        raise UsageError(f"--spec {value!r}: expected NAME:FILE_TYPE[:EXT,EXT], like image:image:jpg,png")
    name, file_type = parts[0], parts[1]
    if file_type not in FILE_TYPES:
        hint = did_you_mean(file_type, FILE_TYPES)
        raise UsageError(
            f"--spec {value!r}: file type {file_type!r} is not one of {', '.join(FILE_TYPES)}{hint}"
        )
    spec: dict[str, Any] = {"name": name, "file_type": file_type, "is_required": True}
    if len(parts) == 3:
        spec["extensions"] = [
            "." + ext.strip().lstrip(".").lower() for ext in parts[2].split(",") if ext.strip()
        ]
    return spec


def _specs(record: dict[str, Any]) -> str:
    shown = []
    for spec in record.get("file_specifications") or []:
        exts = ",".join(e.lstrip(".") for e in spec.get("extensions") or [])
        shown.append(f"{spec['name']}:{spec['file_type']}" + (f":{exts}" if exts else ""))
    return " ".join(shown)


@app.command("list")
def collections_list(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List data collections with their file specifications and how many data units each holds."""
    client = platform_client()

    def units(record: dict[str, Any]) -> int:
        return int(client.list_data_units({"data_collection": record["id"], "page_size": 1})["count"])

    columns: list[Column] = [
        ("ID", 5, lambda r: r["id"]),
        ("NAME", 24, lambda r: r["name"]),
        ("UNITS", 7, units),
        ("SPECIFICATIONS", 0, _specs),
    ]
    hint = "create one with 'synapse data collections create --name N --spec image:image'"
    found = client.list_data_collections(None, list_all=True)
    show(found, columns, what="data collections", as_json=as_json, empty=hint)


@app.command("create")
def collections_create(
    name: str = typer.Option(..., "--name", help="A unique name, like 'street-images'."),
    spec: list[str] = typer.Option(
        ...,
        "--spec",
        help="NAME:FILE_TYPE[:EXT,EXT] of each file of a data unit, like image:image:jpg,png "
        "(repeat it; the first is the primary file).",
    ),  # fmt: skip
    description: str = typer.Option("", "--description", help="What the collection holds."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Create a data collection: the files each of its data units holds."""
    specs = [_spec(value) for value in spec]
    specs[0]["is_primary"] = True
    record = platform_client().create_data_collection(
        {"name": name, "description": description, "file_specifications": specs}
    )
    created("data collection", record, f"{name!r} ({_specs(record)})", as_json)
