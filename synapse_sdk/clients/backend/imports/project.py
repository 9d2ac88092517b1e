"""The project an import fills and its image collection: found by name or created, labels merged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.clients.backend.imports.images import SourceImage, problems
from synapse_sdk.clients.backend.imports.lookup import find_or_create, first
from synapse_sdk.clients.backend.imports.report import ImportReport
from synapse_sdk.errors import UsageError

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient
    from synapse_sdk.formats.datasets import ImageDataset

#: The file specification of the image collections an import creates.
IMAGE_SPEC: Final = {
    "name": "image",
    "file_type": "image",
    "is_primary": True,
    "is_required": True,
}


def prepare_project(
    client: BackendClient,
    dataset: ImageDataset,
    images: list[SourceImage],
    title: str,
    collection: str | None,
) -> tuple[ImportReport, str]:
    """The project (found by title or created) with the dataset's classes in its labels, its image
    collection, and the name of that collection's image file specification.

    Nothing is created until the images are known to fit the collection's file extensions.
    """
    labels = {
        tool: [{"name": name, "attributes": []} for name in names]
        for tool, names in dataset.classification.items()
        if names
    }
    found = first(client.list_projects({"title": title}, list_all=True))
    name = collection or title
    record: dict[str, Any] | None
    if found is not None and found.get("data_collection"):
        record = client.get_data_collection(found["data_collection"])
        if collection is not None and collection != record["name"]:
            raise UsageError(
                f"project {title!r} works on data collection {record['name']!r}, not {collection!r}; "
                "leave the collection out or name that one"
            )
    else:
        record = first(client.list_data_collections({"name": name}, list_all=True))
    new = {
        "name": name,
        "description": f"Images imported from {dataset.format}",
        "file_specifications": [dict(IMAGE_SPEC)],
    }
    spec = _image_spec(record or new, images)
    if record is None:
        record = find_or_create(
            client.list_data_collections, {"name": name}, lambda: client.create_data_collection(new)
        )
    if found is None:
        item = {"title": title, "data_collection": record["id"], "configuration": labels,
                "description": f"Imported from {dataset.path.name}"}  # fmt: skip
        found = find_or_create(client.list_projects, {"title": title}, lambda: client.create_project(item))
    else:
        merged = _merge_labels(found.get("configuration") or {}, labels)
        if merged != found.get("configuration"):
            client.backend.resource("projects").update(found["id"], {"configuration": merged})
    return ImportReport(project=found["id"], data_collection=record["id"]), spec


def _image_spec(collection: Mapping[str, Any], images: list[SourceImage]) -> str:
    """The name of the collection's image file specification (the primary one if several), once
    every image's file extension is one it takes."""
    specs = [s for s in collection.get("file_specifications") or [] if s.get("file_type") == "image"]
    if not specs:
        raise UsageError(
            f"data collection {collection['name']!r} has no image file specification; "
            "name another collection, or a new one"
        )
    spec = next((s for s in specs if s.get("is_primary")), specs[0])
    allowed = {e.lower() for e in spec.get("extensions") or []}
    refused = [i for i in images if allowed and i.path.suffix.lower() not in allowed]
    if refused:
        lines = [f"{i.path}: a {i.path.suffix or 'file without extension'} file ({i.label})" for i in refused]
        takes = f"data collection {collection['name']!r} takes {', '.join(sorted(allowed))} images"
        raise UsageError(
            problems(lines, f"{len(refused)} image(s) cannot go in", f"{takes}; nothing was imported")
        )
    return str(spec["name"])


def _merge_labels(
    configuration: Mapping[str, Any], labels: Mapping[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """The project's label configuration with the dataset's classes it lacks added (none removed)."""
    merged = {key: list(value) if isinstance(value, list) else value for key, value in configuration.items()}
    for tool, classes in labels.items():
        current = merged.setdefault(tool, [])
        if not isinstance(current, list):
            continue
        names = {c.get("name") if isinstance(c, dict) else c for c in current}
        current.extend(c for c in classes if c["name"] not in names)
    return merged
