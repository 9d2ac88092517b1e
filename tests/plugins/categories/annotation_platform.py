"""A small annotated project the post-annotation and validation tests build by hand.

``build_project`` makes real PNG images (one flat colour each, so each has its own bytes), a
data collection (an ``image`` file plus an optional ``note`` JSON, so two data units may share
an image), data units, a project with a label configuration, and one task per image. ``box``
and ``annotation`` write DM v2 data; ``assign`` adds an annotator's submitted assignment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synapse_sdk.clients.backend import BackendClient

#: The label schema of the test projects: boxes of car (a required ``color``) and person; tags.
CONFIGURATION = {
    "bounding_box": [
        {"name": "car", "attributes": [{"name": "color", "is_required": True}]},
        {"name": "person", "attributes": []},
    ],
    "tags": [{"name": "day"}, {"name": "night"}],
}
PLUGIN_CONFIG = """\
code: {code}
name: Test plugin
version: 1.0.0
category: {category}
actions:
  {action}:
    entrypoint: plugin.{action}.Action
    method: job
"""


@dataclass
class Project:
    """What ``build_project`` made: ids by image name."""

    client: BackendClient
    id: int
    collection: int
    units: dict[str, dict[str, Any]]
    tasks: dict[str, dict[str, Any]]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)


def png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (100, 100)) -> Path:
    """A flat-colour PNG image at ``path``."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def box(id: str, cls: str, data: list[float], **attrs: Any) -> dict[str, Any]:  # noqa: A002 - DM v2's name
    """A DM v2 bounding box ``[x, y, width, height]`` with ``attrs`` as ``{name, value}`` pairs."""
    return {"id": id, "classification": cls, "attrs": [{"name": k, "value": v} for k, v in attrs.items()],
            "data": data}  # fmt: skip


def annotation(*boxes: dict[str, Any], tags: tuple[str, ...] = ()) -> dict[str, Any]:
    """A one-image DM v2 annotation of ``boxes`` and image ``tags``."""
    image: dict[str, Any] = {"bounding_box": list(boxes)}
    if tags:
        image["tags"] = [{"id": f"t{n}", "classification": name} for n, name in enumerate(tags, start=1)]
    return {"images": [image]}


def build_project(
    client: BackendClient,
    folder: Path,
    images: dict[str, tuple[int, int, int]],
    *,
    title: str = "streets",
    size: tuple[int, int] = (100, 100),
    configuration: dict[str, Any] | None = None,
) -> Project:
    """One task per image (name -> colour); each image ``size`` pixels."""
    collection = client.create_data_collection(
        {
            "name": f"{title} images",
            "file_specifications": [
                {"name": "image", "file_type": "image", "is_primary": True, "is_required": True},
                {"name": "note", "file_type": "json", "is_required": False},
            ],
        }
    )
    project = client.create_project(
        {"title": title, "data_collection": collection["id"], "configuration": configuration or CONFIGURATION}
    )
    result = Project(client, project["id"], collection["id"], {}, {})
    for name, colour in images.items():
        add_unit(result, folder, name, png(folder / f"{name}.png", colour, size))
    return result


def add_unit(
    project: Project, folder: Path, name: str, image: Path, note: str | None = None
) -> dict[str, Any]:
    """A data unit of ``image`` (and a ``note`` JSON file, when given) with its task in the project."""
    client = project.client
    stored = client.create_data_file(image)
    files = {"image": {"data_file": stored["id"], "checksum": stored["checksum"], "path": stored["path"]}}
    if note is not None:
        note_path = folder / f"{name}.note.json"
        note_path.write_text(json.dumps({"note": note}))
        noted = client.create_data_file(note_path)
        files["note"] = {"data_file": noted["id"], "checksum": noted["checksum"], "path": noted["path"]}
    unit = client.create_data_units([{"data_collection": project.collection, "files": files}])[0]
    task = client.create_tasks([{"project": project.id, "data_unit": unit["id"]}])[0]
    project.units[name], project.tasks[name], project.files[name] = unit, task, stored
    return task


def assign(
    project: Project, name: str, annotator: str, data: dict[str, Any], status: str = "submitted"
) -> None:
    """``annotator``'s assignment of the task of image ``name``, with its annotation."""
    project.client.create_assignments(
        [
            {
                "project": project.id,
                "task": project.tasks[name]["id"],
                "annotator": annotator,
                "status": status,
                "data": data,
            }
        ]  # fmt: skip
    )
