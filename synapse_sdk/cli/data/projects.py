"""``synapse data projects``: create and list annotation projects and their labels."""

from __future__ import annotations

from typing import Any

import typer

from synapse_sdk.cli.data.lookup import platform_client, resolve
from synapse_sdk.cli.data.output import JSON_HELP, Column, created, show

app = typer.Typer(help="Create and list annotation projects.", no_args_is_help=True)


def _labels(values: list[str]) -> dict[str, list[dict[str, Any]]]:
    """``tool:class,class`` values as a project's label configuration."""
    from typing import get_args

    from synapse_sdk.errors import UsageError, did_you_mean
    from synapse_sdk.formats.dm import ClassifiedTool

    tools = get_args(ClassifiedTool)
    configuration: dict[str, list[dict[str, Any]]] = {}
    for value in values:
        tool, sep, names = value.partition(":")
        classes = [n.strip() for n in names.split(",") if n.strip()]
        if not sep or not classes:
            raise UsageError(f"--labels {value!r}: expected TOOL:CLASS,CLASS, like bounding_box:car,person")
        if tool not in tools:
            raise UsageError(
                f"--labels {value!r}: tool {tool!r} is not one of {', '.join(tools)}"
                f"{did_you_mean(tool, tools)}"
            )
        current = configuration.setdefault(tool, [])
        current.extend(
            {"name": n, "attributes": []} for n in classes if n not in [c["name"] for c in current]
        )
    return configuration


def _label_summary(record: dict[str, Any]) -> str:
    config = record.get("configuration") or {}
    parts = []
    for tool, classes in config.items():
        names = [c.get("name", "?") if isinstance(c, dict) else str(c) for c in classes or []]
        parts.append(f"{tool}: {', '.join(names[:4])}" + (f" (+{len(names) - 4})" if len(names) > 4 else ""))
    return "; ".join(parts)


@app.command("list")
def projects_list(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List projects with their data collection, how many tasks each has, and their labels."""
    client = platform_client()

    def count(record: dict[str, Any]) -> int:
        return int(client.list_tasks({"project": record["id"], "page_size": 1})["count"])

    columns: list[Column] = [
        ("ID", 5, lambda r: r["id"]),
        ("TITLE", 24, lambda r: r["title"]),
        ("COLLECTION", 10, lambda r: r.get("data_collection")),
        ("TASKS", 7, count),
        ("LABELS", 0, _label_summary),
    ]
    hint = "create one with 'synapse data projects create --title T' or 'synapse data import coco'"
    show(client.list_projects(None, list_all=True), columns, what="projects", as_json=as_json, empty=hint)


@app.command("create")
def projects_create(
    title: str = typer.Option(..., "--title", "--name", help="A unique title, like 'cars'."),
    collection: str = typer.Option(None, "--collection", help="Its data collection, by id or name."),
    labels: list[str] = typer.Option(
        None,
        "--labels",
        help="TOOL:CLASS,CLASS the annotators use, like bounding_box:car,person (repeat it).",
    ),
    description: str = typer.Option("", "--description", help="What the project is for."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Create a project over a data collection, with the classes of each annotation tool."""
    client = platform_client()
    item: dict[str, Any] = {
        "title": title,
        "description": description,
        "configuration": _labels(labels or []),
    }
    if collection is not None:
        item["data_collection"] = resolve(client, "data collection", collection, "--collection")
    record = client.create_project(item)
    created("project", record, repr(title), as_json)
