"""``PostAnnotationParams`` and ``PostAnnotationAction``: annotators' work merged into ground truth.

Params::

    {"project": 3, "iou_threshold": 0.5, "min_agreement": 0.5, "merge": "mean",
     "review_threshold": 0.8, "splits": {"train": 0.8, "val": 0.1, "test": 0.1}, "seed": 0}

Per task of ``project`` with at least ``min_annotators`` submitted or approved assignments, the
annotators' boxes are matched and merged (``consensus.py``); the merged annotation is written to
the task, which is marked ``reviewed`` when its agreement reaches ``review_threshold``, else
``rejected`` with the tag ``needs_review``. The reviewed tasks become a frozen ground-truth
version, split train/val/test by image with ``seed`` (``split.py``). The run's folder gets
``post_annotation_report.json``: agreement per task and per class. See docs/post_annotation.md.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.categories.post_annotation.agreement import match_greedy
from synapse_sdk.plugins.categories.post_annotation.consensus import TaskConsensus, merge_task
from synapse_sdk.plugins.categories.post_annotation.split import SPLITS


class PostAnnotationParams(BaseModel):
    """Which project, how boxes match and merge, when a task is reviewed, how the ground truth splits."""

    project: int = Field(description="the project whose submitted or approved assignments are merged")
    iou_threshold: float = Field(0.5, gt=0, le=1, description="boxes of two annotators match from this IoU")
    min_agreement: float = Field(
        0.5, gt=0, le=1, description="the share of annotators who must have an object for it to be kept"
    )
    merge: Literal["mean", "median"] = Field("mean", description="how matched boxes merge, coordinate-wise")
    review_threshold: float = Field(
        0.8, ge=0, le=1, description="tasks whose agreement reaches this are reviewed; the others need review"
    )
    min_annotators: int = Field(2, ge=1, le=100, description="tasks with fewer annotators are skipped")
    ground_truth: bool = Field(True, description="make a frozen ground-truth version of the reviewed tasks")
    ground_truth_dataset: str | None = Field(
        None, description="the ground-truth dataset's name; default: '<project title> consensus'"
    )
    splits: dict[str, float] = Field(
        default_factory=lambda: {"train": 0.8, "val": 0.1, "test": 0.1},
        description="the share of images per split (train, val, test; summing to 1)",
    )
    seed: int = Field(0, description="the same seed gives the same split")

    @field_validator("splits")
    @classmethod
    def _fractions(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(SPLITS))
        if unknown:
            raise ValueError(
                f"unknown split {unknown[0]!r}; use train, val and test, like {{'train': 0.8, ...}}"
            )
        if any(not 0 <= share <= 1 for share in value.values()):
            raise ValueError(f"expected shares from 0 to 1, got {value}")
        if abs(sum(value.values()) - 1) > 1e-6:
            raise ValueError(
                f"the shares must sum to 1, like {{'train': 0.8, 'val': 0.1, 'test': 0.1}}, got {value}"
            )
        return {split: float(value.get(split, 0.0)) for split in SPLITS}


class PostAnnotationAction(Action):
    """Merge the annotators' work on each task into a consensus, review it, make ground truth.

    Override one method to change a step:

    - ``match_boxes(objects, boxes)``: which boxes of the next annotator are which objects
      (default: greedy by IoU from ``iou_threshold``, any class);
    - ``merge_boxes(boxes)``: one object's box from its annotators' (default: ``merge``);
    - ``merge_task(annotations)``: the whole consensus of a task;
    - ``is_reviewed(consensus)``: whether a task passes (default: agreement >= ``review_threshold``).

    Example: only boxes of the same class match::

        class SameClass(PostAnnotationAction):
            def match_boxes(self, objects, boxes):
                pairs = super().match_boxes(objects, boxes)
                same = [objects[o]["classification"] == boxes[b]["classification"] for o, b in pairs]
                return [pair for pair, ok in zip(pairs, same) if ok]
    """

    name = "post_annotation"
    category = Category.POST_ANNOTATION
    method = "job"
    is_category_base = True
    params_model = PostAnnotationParams
    progress_categories = {
        "consensus": "Matching and merging each task's annotations",
        "ground_truth": "Writing the ground-truth version",
    }

    def start(self) -> Any:
        """Merge every task (``engine.py``), write the report and the ground-truth version."""
        from synapse_sdk.plugins.categories.post_annotation.engine import post_annotate

        return post_annotate(self)

    # -- the steps a plugin overrides --------------------------------------------------------------

    def match_boxes(
        self, objects: list[dict[str, Any]], boxes: list[dict[str, Any]]
    ) -> Sequence[tuple[int, int]]:
        """``(object index, box index)`` pairs: ``objects`` are the merged boxes so far (``{"data"}``, and
        their members' boxes in ``members``), ``boxes`` the next annotator's (DM v2 bounding boxes)."""
        pairs = match_greedy(
            [o["data"] for o in objects], [b["data"] for b in boxes], float(self.params["iou_threshold"])
        )
        return [(i, j) for i, j, _ in pairs]

    def merge_boxes(self, boxes: list[dict[str, Any]]) -> list[float]:
        """The ``[x, y, width, height]`` of one object: the mean (or median) of its boxes' coordinates."""
        columns = list(zip(*(box["data"] for box in boxes), strict=True))
        pick = statistics.median if self.params.get("merge") == "median" else statistics.fmean
        return [float(pick(column)) for column in columns]

    def merge_task(self, annotations: Sequence[tuple[str, Mapping[str, Any] | None]]) -> TaskConsensus:
        """The consensus of one task's ``(annotator, annotation)`` list (``consensus.merge_task``)."""
        return merge_task(
            annotations,
            match=self.match_boxes,
            merge=self.merge_boxes,
            min_agreement=float(self.params["min_agreement"]),
        )

    def is_reviewed(self, consensus: TaskConsensus) -> bool:
        """Whether the task's consensus is good enough to be ground truth."""
        return consensus.agreement >= float(self.params["review_threshold"])
