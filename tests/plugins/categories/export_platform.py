"""The platform the export tests build: real photos imported into the test's embedded platform.

``photo_platform`` imports scikit-image's four sample photos with their hand-drawn COCO boxes
(``tests/clients/samples.py``) into the test's SYNAPSE_HOME: a project, data units, tasks, a
frozen ground-truth version (3 train, 1 val), and one assignment per task.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from synapse_sdk.clients.backend import BackendClient

EXPORT_CONFIG = """\
code: {code}
name: Export test plugin
version: 1.0.0
category: export
actions:
  export:
    entrypoint: plugin.export.Exporter
    method: job
"""
PLAIN_EXPORTER = "from synapse_sdk.plugins.categories.export import BaseExporter as Exporter\n"
#: Assignment statuses of the four tasks, in task order.
ASSIGNMENT_STATUSES = ("submitted", "approved", "pending", "submitted")


@dataclass
class Platform:
    """The ids of what ``photo_platform`` made."""

    client: BackendClient
    images: Path
    project: int
    version: int
    tasks: list[dict]
    assignments: list[dict]
    events: list[dict]
    storage: int


def build_platform(client: BackendClient, images: Path, coco: Path) -> Platform:
    """Import the photos into ``client``'s platform, with a ground-truth version and assignments."""
    from synapse_sdk.clients.backend.imports import import_coco

    report = import_coco(
        client, images, coco, project="photos", ground_truth="photos-gt", val_fraction=0.25, seed=7
    )
    tasks = list(client.list_tasks({"project": report.project}, list_all=True)[0])
    assignments = client.create_assignments(
        [
            {
                "project": report.project,
                "task": t["id"],
                "annotator": f"ann{n % 2}",
                "status": status,
                "data": t["data"],
            }
            for n, (t, status) in enumerate(zip(tasks, ASSIGNMENT_STATUSES, strict=True))
        ]
    )
    version = report.ground_truth_version
    assert version is not None
    events = list(
        client.list_ground_truth_events({"ground_truth_dataset_version": version}, list_all=True)[0]
    )
    storage = client.get_default_storage()["id"]
    return Platform(client, images, report.project, version, tasks, assignments, events, storage)


def tree_digest(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """relative path -> sha256 of every file under ``folder`` but those named in ``skip``."""
    import hashlib

    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in skip
    }
