"""``synapse data``: populate and inspect the data platform (storages, collections, projects, tasks).

A thin shell over :class:`~synapse_sdk.clients.backend.BackendClient` (the embedded platform
under ``SYNAPSE_HOME``, or ``SYNAPSE_HOST``) and
:func:`~synapse_sdk.clients.backend.imports.import_coco`. Every listing takes ``--json``;
``--project`` and ``--collection`` take an id or a name.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient

app = typer.Typer(
    help="Populate and inspect the data platform: storages, collections, projects, tasks, imports.",
    no_args_is_help=True,
)
storages = typer.Typer(help="Create and list storages (where files live).", no_args_is_help=True)
collections = typer.Typer(help="Create and list data collections (kinds of data unit).", no_args_is_help=True)
projects = typer.Typer(help="Create and list annotation projects.", no_args_is_help=True)
tasks = typer.Typer(help="List the tasks of projects.", no_args_is_help=True)
data_units = typer.Typer(help="List the data units of collections.", no_args_is_help=True)
imports = typer.Typer(help="Import annotated data sets (images and their annotations).", no_args_is_help=True)
app.add_typer(storages, name="storages")
app.add_typer(collections, name="collections")
app.add_typer(projects, name="projects")
app.add_typer(tasks, name="tasks")
app.add_typer(data_units, name="data-units")
app.add_typer(imports, name="import")

JSON_HELP = "Print JSON."
LIMIT_HELP = "How many, oldest first; 0 for all."

#: A table column: header, width, and the cell of a record.
Column = tuple[str, int, Callable[[dict[str, Any]], object]]


def _client() -> BackendClient:
    from synapse_sdk.clients.backend import get_backend_client

    return get_backend_client()


def _show(found: tuple[Iterable[dict[str, Any]], int], columns: list[Column], *, what: str,
          as_json: bool, limit: int = 0, empty: str = "") -> None:  # fmt: skip
    """Print records as a table (or a JSON list), a page at a time; say on stderr what was left out."""
    import itertools

    rows, count = found
    shown: Iterator[dict[str, Any]] = iter(rows) if limit <= 0 else itertools.islice(rows, limit)
    n = 0
    if as_json:
        sys.stdout.write("[")
        for n, record in enumerate(shown, start=1):
            sys.stdout.write(("\n  " if n == 1 else ",\n  ") + json.dumps(record, default=str))
        sys.stdout.write("\n]\n" if n else "]\n")
    else:
        for n, record in enumerate(shown, start=1):
            if n == 1:
                print(" ".join(f"{h:<{w}}" for h, w, _ in columns).rstrip())
            print(" ".join(f"{_cell(cell(record)):<{w}}" for _, w, cell in columns).rstrip())
        if not n:
            print(f"no {what}" + (f"; {empty}" if empty else ""), file=sys.stderr)
    if n < count:
        print(f"showed {n} of {count} {what}; --limit 0 shows all", file=sys.stderr)


def _cell(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        import datetime

        return datetime.datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _created(kind: str, record: dict[str, Any], label: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps(record, indent=2, default=str))
    else:
        print(f"created {kind} {record['id']} {label}")


def _resolve(client: BackendClient, kind: str, value: str, option: str) -> int:
    """The id of a project or data collection given by id or by name; exit 2 naming the option.

    Digits are an id first, then a name (a project may be titled ``2024``).
    """
    from synapse_sdk.errors import ResourceNotFound, UsageError, did_you_mean

    project = kind == "project"
    listing, key = (client.list_projects, "title") if project else (client.list_data_collections, "name")
    command = f"synapse data {'projects' if project else 'collections'} list"
    if value.isdigit():
        try:
            return int((client.get_project if project else client.get_data_collection)(int(value))["id"])
        except ResourceNotFound:
            pass
    found = next(iter(listing({key: value}, list_all=True)[0]), None)
    if found is not None:
        return int(found["id"])
    if value.isdigit():
        raise UsageError(f"{option} {value}: no {kind} has id {value}; list them with '{command}'")
    names = [r[key] for r in listing(None, list_all=True)[0]]
    raise UsageError(
        f"{option} {value!r}: no {kind} is named {value!r}{did_you_mean(value, names)}; "
        f"list them with '{command}'"
    )


# -- storages -----------------------------------------------------------------------------------


def _location(storage: dict[str, Any]) -> str:
    config = storage.get("configuration") or {}
    if storage.get("provider") == "s3":
        where = f"s3://{config.get('bucket')}/{config.get('prefix') or ''}".rstrip("/")
        return where + (f" at {config['endpoint_url']}" if config.get("endpoint_url") else "")
    return str(config.get("root", ""))


@storages.command("list")
def storages_list(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List storages (secret keys shown as ***); the default one gets files unless told otherwise."""
    columns: list[Column] = [
        ("ID", 5, lambda r: r["id"]),
        ("NAME", 20, lambda r: r["name"]),
        ("PROVIDER", 8, lambda r: r["provider"]),
        ("DEFAULT", 7, lambda r: "yes" if r.get("is_default") else ""),
        ("LOCATION", 0, _location),
    ]
    _show(_client().list_storages(None, list_all=True), columns, what="storages", as_json=as_json)


@storages.command("create")
def storages_create(
    name: str = typer.Option(..., "--name", help="A unique name, like 'team-s3'."),
    provider: str = typer.Option("local", "--provider", help="local or s3."),
    root: Path = typer.Option(None, "--root", help="local: the folder that holds the files."),
    bucket: str = typer.Option(None, "--bucket", help="s3: the bucket, like 'synapse-data'."),
    prefix: str = typer.Option(None, "--prefix", help="s3: a folder inside the bucket."),
    endpoint_url: str = typer.Option(None, "--endpoint-url", help="s3: a non-AWS server's URL."),
    region: str = typer.Option(None, "--region", help="s3: the region, like 'us-east-1'."),
    access_key_id: str = typer.Option(
        None, "--access-key-id", help="s3: the key id (or the AWS environment)."
    ),
    secret_access_key: str = typer.Option(
        None, "--secret-access-key", help="s3: the secret key (visible to other users of this machine's ps)."
    ),
    default: bool = typer.Option(False, "--default", help="Make it the default storage."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Create a storage: a local folder (--root) or an S3-compatible bucket (--bucket...)."""
    from synapse_sdk.errors import UsageError, did_you_mean

    s3 = {
        "bucket": bucket, "prefix": prefix, "endpoint_url": endpoint_url, "region": region,
        "access_key_id": access_key_id, "secret_access_key": secret_access_key,
    }  # fmt: skip
    if provider == "local":
        extra = [key for key, value in s3.items() if value is not None]
        if extra:
            raise UsageError(f"--{extra[0].replace('_', '-')}: only for --provider s3")
        if root is None:
            raise UsageError("--root: required for --provider local, like --root /data/synapse")
        configuration: dict[str, Any] = {"root": str(root.expanduser().absolute())}
    elif provider == "s3":
        if root is not None:
            raise UsageError("--root: only for --provider local")
        if bucket is None:
            raise UsageError("--bucket: required for --provider s3, like --bucket synapse-data")
        configuration = {key: value for key, value in s3.items() if value is not None}
    else:
        raise UsageError(
            f"--provider {provider!r}: expected local or s3{did_you_mean(provider, ['local', 's3'])}"
        )
    record = _client().create_storage(
        {"name": name, "provider": provider, "configuration": configuration, "is_default": default}
    )
    _created("storage", record, f"{name!r} ({provider}: {_location(record)})", as_json)


# -- data collections ---------------------------------------------------------------------------


def _spec(value: str) -> dict[str, Any]:
    """``name:file_type[:ext,ext]`` as a file specification."""
    from synapse_sdk.backend.resources import FILE_TYPES
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


@collections.command("list")
def collections_list(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List data collections with their file specifications and how many data units each holds."""
    client = _client()

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
    _show(found, columns, what="data collections", as_json=as_json, empty=hint)


@collections.command("create")
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
    record = _client().create_data_collection(
        {"name": name, "description": description, "file_specifications": specs}
    )
    _created("data collection", record, f"{name!r} ({_specs(record)})", as_json)


# -- projects -----------------------------------------------------------------------------------


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


@projects.command("list")
def projects_list(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List projects with their data collection, how many tasks each has, and their labels."""
    client = _client()

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
    _show(client.list_projects(None, list_all=True), columns, what="projects", as_json=as_json, empty=hint)


@projects.command("create")
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
    client = _client()
    item: dict[str, Any] = {
        "title": title,
        "description": description,
        "configuration": _labels(labels or []),
    }
    if collection is not None:
        item["data_collection"] = _resolve(client, "data collection", collection, "--collection")
    record = client.create_project(item)
    _created("project", record, repr(title), as_json)


# -- tasks and data units -----------------------------------------------------------------------


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
    from synapse_sdk.backend.resources import TASK_STATUSES
    from synapse_sdk.errors import UsageError, did_you_mean

    client = _client()
    filters: dict[str, Any] = {}
    if project is not None:
        filters["project"] = _resolve(client, "project", project, "--project")
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
    _show(client.list_tasks(filters, list_all=True), columns, what="tasks", as_json=as_json, limit=limit,
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
    client = _client()
    filters: dict[str, Any] = {}
    if collection is not None:
        filters["data_collection"] = _resolve(client, "data collection", collection, "--collection")
    columns: list[Column] = [
        ("ID", 7, lambda r: r["id"]),
        ("COLLECTION", 10, lambda r: r["data_collection"]),
        ("CHECKSUM", 12, lambda r: (r.get("checksum") or "")[:12]),
        ("FILE", 0, _unit_file),
    ]
    _show(
        client.list_data_units(filters, list_all=True),
        columns,
        what="data units",
        as_json=as_json,
        limit=limit,
    )


# -- imports ------------------------------------------------------------------------------------

PHASE_LABELS = {
    "upload": "Uploading images",
    "data_units": "Data units",
    "tasks": "Tasks",
    "ground_truth": "Ground truth",
}


@imports.command("coco")
def import_coco(
    images_dir: Path = typer.Argument(
        ..., metavar="IMAGES_DIR", help="The folder holding the images (file_name is relative to it)."
    ),
    annotations: Path = typer.Argument(
        ..., metavar="ANNOTATIONS", help="The COCO instances or keypoints JSON file."
    ),
    project: str = typer.Option(..., "--project", help="The project's title (created when new)."),
    collection: str = typer.Option(
        None, "--collection", help="The data collection's name (default: the project's, or its title)."
    ),
    storage: int = typer.Option(
        None, "--storage", help="The storage id for the images (default: the default one)."
    ),
    ground_truth: str = typer.Option(
        None,
        "--ground-truth",
        help="Also make a frozen version of this ground-truth dataset, split train/val.",
    ),
    val_fraction: float = typer.Option(0.2, "--val-fraction", help="The share of images in the val split."),
    seed: int = typer.Option(0, "--seed", help="Chooses the val images (the same seed, the same split)."),
    skip_missing: bool = typer.Option(
        False,
        "--skip-missing",
        help="Import the images whose file exists (default: refuse if one is missing).",
    ),
    batch_size: int = typer.Option(
        100, "--batch-size", min=1, help="Images per batch of data units and tasks."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import a COCO file: upload the images, a data unit and a task per image.

    Running it again (after a crash, or on the same files) finishes the
    import and creates no duplicate data units or tasks; tasks that exist
    are left as they are. A missing image file refuses the import before
    anything is written (each one named), unless --skip-missing. With
    --ground-truth, a frozen version of that dataset holds every imported
    image, split train/val (the same version again if nothing changed).
    """
    import time

    from synapse_sdk.backend.schemas import EventBatch
    from synapse_sdk.cli._render import make_renderer
    from synapse_sdk.clients.backend.imports import import_coco as run_import

    renderer = make_renderer(PHASE_LABELS)

    def progress(phase: str, done: int, total: int) -> None:
        if total:
            renderer.write("", EventBatch(progress={phase: (done, total, time.time())}))

    try:
        report = run_import(
            _client(), images_dir, annotations, project=project, collection=collection, storage=storage,
            ground_truth=ground_truth, val_fraction=val_fraction, seed=seed, skip_missing=skip_missing,
            batch_size=batch_size, progress=progress,
        )  # fmt: skip
    finally:
        renderer.close()
    for line in report.problems:
        print(f"warning: {line}", file=sys.stderr)
    print(json.dumps(report.to_json(), indent=2) if as_json else report.summary())
