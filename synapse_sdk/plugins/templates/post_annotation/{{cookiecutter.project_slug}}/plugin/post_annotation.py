"""The ``post_annotation`` action: merge annotators' boxes by consensus into a ground-truth version.

Run as generated, it works on a sample project: ``sample_data/`` (five small photos and their
COCO boxes) is imported on first use, and two annotators' submitted assignments are made for
each task: ``alice`` drew the COCO boxes, ``bob`` the same boxes 1 px off, but missed the small
eye of chelsea the cat. Per task the action matches the two annotators' boxes (by IoU, and here
only boxes of the same class: this plugin's own ``match_boxes``), merges them, measures the
agreement (mean IoU, match rate, Cohen's kappa), writes the merged annotation to the task and
marks it ``reviewed``, or ``rejected`` with the tag ``needs_review`` (chelsea: 3 of 4 ratings
agree, below ``review_threshold`` 0.8). The reviewed tasks become a frozen ground-truth version,
split train/val/test by image with ``seed``. ``post_annotation_report.json`` in the run's folder
has the agreement per task and per class.

Merge your own project with ``{"project": 3}``; see the params for the thresholds.
"""

from pathlib import Path

from pydantic import Field
from synapse_sdk.plugins.categories.post_annotation import PostAnnotationAction, PostAnnotationParams

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"
SAMPLE_PROJECT = "{{ cookiecutter.name }} sample"


class SampleParams(PostAnnotationParams):
    project: int | None = Field(None, description="A project id; default: the sample project")
    splits: dict[str, float] = Field(
        default_factory=lambda: {"train": 0.5, "val": 0.25, "test": 0.25},
        description="The share of images per split (train, val, test; summing to 1)",
    )


class PostAnnotation(PostAnnotationAction):
    """Consensus where only boxes of the same class match."""

    params_model = SampleParams

    def match_boxes(self, objects, boxes):
        pairs = super().match_boxes(objects, boxes)
        return [
            (obj, box) for obj, box in pairs if objects[obj]["classification"] == boxes[box]["classification"]
        ]

    def start(self):
        if self.params["project"] is None:
            self.params = {**self.params, "project": self.sample_project()}
        return super().start()

    def sample_project(self):
        """The sample project's id: imported from sample_data/ with two annotators' work on first use."""
        from synapse_sdk.clients.backend.imports import import_coco

        client = self.client
        report = import_coco(
            client, SAMPLE_DATA / "images", SAMPLE_DATA / "instances.json", project=SAMPLE_PROJECT
        )
        if client.list_assignments({"project": report.project})["count"]:
            return report.project
        tasks = list(client.list_tasks({"project": report.project}, list_all=True)[0])
        assignments = []
        for task in tasks:
            alice = task["data"] or {"images": [{}]}
            bob = {"images": [dict(image) for image in alice["images"]]}
            for image in bob["images"]:
                boxes = [
                    {**b, "data": [b["data"][0] + 1, b["data"][1] + 1, *b["data"][2:]]}
                    for b in image.get("bounding_box", [])
                ]
                image["bounding_box"] = [b for b in boxes if b["data"][2] * b["data"][3] > 120]
            for annotator, data in (("alice", alice), ("bob", bob)):
                assignments.append(
                    {
                        "project": report.project,
                        "task": task["id"],
                        "annotator": annotator,
                        "status": "submitted",
                        "data": data,
                    }
                )
        client.create_assignments(assignments)
        self.run.log_message(f"Sample project {SAMPLE_PROJECT!r}: {len(tasks)} task(s), 2 annotators each")
        return report.project
