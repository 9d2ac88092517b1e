"""What the auto_label tests build: real photos on the test's embedded platform, and a served detector.

``photo_project`` imports scikit-image's four sample photos (astronaut, chelsea the cat, coffee,
rocket) with their hand-drawn boxes (``tests/clients/samples.py``) as a project whose classes
include ``cat_face``; every task has its own annotation (the hand-drawn boxes). ``DETECT_PLUGIN``
is a restapi plugin serving OpenCV's cascades over HTTP, the way another plugin's ``inference``
endpoint serves a model to auto_label.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from synapse_sdk.clients.backend import BackendClient

#: The astronaut's face, as the frontal-face cascade finds it (NOTES.md) and the COCO file has it.
ASTRONAUT_FACE = (177, 66, 95, 95)
#: Chelsea's face, drawn by hand (the photo is a close-up: the face fills most of it).
CHELSEA_FACE = (20, 0, 400, 300)

DETECT_CONFIG = """\
code: detect
name: Detect
version: 1.0.0
category: neural_net
actions:
  inference:
    entrypoint: plugin.detect.Detect
    method: restapi
    description: Faces and cat faces, by OpenCV's Haar cascades
"""
DETECT_SOURCE = """\
from synapse_sdk.plugins.categories.neural_net import InferenceAction
from synapse_sdk.plugins.categories.smart_tool import ImageInput
from synapse_sdk.plugins.categories.smart_tool.opencv import HaarCascadeDetector
from synapse_sdk.plugins.categories.smart_tool.remote import DetectRequest, detections_response, image_bytes


class Detect(InferenceAction):
    params_model = DetectRequest

    def setup(self):
        self.detector = HaarCascadeDetector(["face", "cat_face"])

    def start(self):
        given = self.params["images"]
        images = [ImageInput(0, f"image {n}", image_bytes(b64)) for n, b64 in enumerate(given)]
        return detections_response(self.detector.predict(images), self.detector.labels)
"""


@dataclass
class PhotoProject:
    """The ids of what ``photo_project`` made; ``tasks`` by file name."""

    client: BackendClient
    project: int
    tasks: dict[str, dict[str, Any]]

    def task(self, name: str) -> dict[str, Any]:
        """The task of a photo, as the platform has it now."""
        return self.client.get_task(self.tasks[name]["id"])


def build_project(client: BackendClient, images: Path, coco: Path, title: str = "photos") -> PhotoProject:
    """Import the photos, their hand-drawn boxes and a ``cat_face`` class into ``client``'s platform."""
    from synapse_sdk.clients.backend.imports import import_coco

    document = copy.deepcopy(json.loads(coco.read_text()))
    document["categories"].append({"id": 99, "name": "cat_face", "supercategory": "animal"})
    with_cat = coco.with_name("instances_cat.json")
    with_cat.write_text(json.dumps(document))
    report = import_coco(client, images, with_cat, project=title)
    tasks = list(client.list_tasks({"project": report.project}, list_all=True)[0])
    by_name = {}
    for task in tasks:
        unit = client.get_data_unit(task["data_unit"])
        data_file = client.get_data_file(next(iter(unit["files"].values()))["data_file"])
        by_name[data_file["name"] or data_file["path"].rsplit("/", 1)[-1]] = task
    return PhotoProject(client, report.project, by_name)


def iou(a: tuple[float, ...] | list[float], b: tuple[float, ...] | list[float]) -> float:
    """Intersection over union of two ``[x, y, w, h]`` boxes."""
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    w = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    h = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def inside(box: list[float], region: tuple[float, ...]) -> bool:
    """Whether ``box`` lies within ``region`` (both ``[x, y, w, h]``)."""
    return (
        box[0] >= region[0] and box[1] >= region[1]
        and box[0] + box[2] <= region[0] + region[2] and box[1] + box[3] <= region[1] + region[3]
    )  # fmt: skip


def prediction(task: dict[str, Any], source: str) -> dict[str, Any]:
    """The task's one prediction of ``source``."""
    (found,) = [p for p in task["predictions"] if p["source"] == source]
    return found


def boxes(found: dict[str, Any]) -> list[tuple[str, list[float], float]]:
    """``(class, box, score)`` of each box of a prediction."""
    return [
        (b["classification"], b["data"], found["scores"][b["id"]])
        for image in found["data"]["images"]
        for b in image["bounding_box"]
    ]


@pytest.fixture(scope="session")
def photo_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The four photos and their COCO file, written once per session."""
    from tests.clients.samples import write_samples

    return write_samples(tmp_path_factory.mktemp("smart-tool-photos"))


@pytest.fixture
def photo_project(photo_files: tuple[Path, Path]) -> PhotoProject:
    """The photos as a project on the test's embedded platform."""
    from synapse_sdk.clients.backend import get_backend_client

    return build_project(get_backend_client(), *photo_files)
