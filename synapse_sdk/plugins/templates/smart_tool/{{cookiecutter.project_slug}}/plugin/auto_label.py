"""The ``auto_label`` action: pre-label items with a nearest-centroid model, flagging uncertain ones.

The model is learnt from labelled examples (feature vectors with a label); confidence is how
much closer an item is to its nearest centroid than to the runner-up. Items under
``min_confidence`` are marked ``needs_review`` for a human annotator.
"""

import json
import math
from pathlib import Path

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.smart_tool import AutoLabelAction as BaseAutoLabelAction

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"


class AutoLabelParams(BaseModel):
    items_path: str | None = Field(
        None,
        description='A JSON list of items to label, [{"id": ..., "features": [...]}] (relative to the '
        "current folder). Default: the bundled sample_data/unlabeled.json.",
    )
    examples_path: str | None = Field(
        None,
        description='A JSON list of labelled examples, [{"label": ..., "features": [...]}] (relative to '
        "the current folder). Default: the bundled sample_data/labeled.json.",
    )
    min_confidence: float = Field(0.3, ge=0, le=1, description="Items labelled with less go to review")


def read_json(path: str | None, sample: str):
    """The JSON a path param names: the bundled ``sample_data/<sample>`` when unset, else the file as
    given (relative to the current folder, where the command was run; never to the plugin folder)."""
    file = SAMPLE_DATA / sample if path is None else Path(path).expanduser().resolve()
    return json.loads(file.read_text(encoding="utf-8"))


def centroids(examples):
    """The mean feature vector of each label."""
    sums, counts = {}, {}
    for example in examples:
        label, features = example["label"], example["features"]
        sums[label] = [a + b for a, b in zip(sums.get(label, [0.0] * len(features)), features, strict=True)]
        counts[label] = counts.get(label, 0) + 1
    return {label: [v / counts[label] for v in total] for label, total in sums.items()}


def classify(model, features):
    """(label, confidence) of the nearest centroid; confidence is in [0, 1]."""
    distances = sorted((math.dist(c, features), label) for label, c in model.items())
    best, label = distances[0]
    runner_up = distances[1][0] if len(distances) > 1 else best
    confidence = 1.0 if runner_up == 0 else 1 - best / runner_up
    return label, round(confidence, 4)


class AutoLabelAction(BaseAutoLabelAction):
    name = "auto_label"
    params_model = AutoLabelParams
    progress_categories = {"labelling": "Labelling items"}

    def start(self):
        model = centroids(read_json(self.params["examples_path"], "labeled.json"))
        items = read_json(self.params["items_path"], "unlabeled.json")
        self.run.log_message(
            f"Labelling {len(items)} item(s) with {len(model)} classes: {', '.join(sorted(model))}"
        )
        labels = []
        for number, item in enumerate(items, start=1):
            label, confidence = classify(model, item["features"])
            review = confidence < self.params["min_confidence"]
            labels.append(
                {"id": item["id"], "label": label, "confidence": confidence, "needs_review": review}
            )
            self.run.set_progress(number, len(items), "labelling")
        flagged = sum(entry["needs_review"] for entry in labels)
        mean = sum(entry["confidence"] for entry in labels) / max(len(labels), 1)
        self.run.set_metrics(
            {"labelled": len(labels), "needs_review": flagged, "mean_confidence": mean}, "labelling"
        )
        if flagged:
            self.run.log_message(f"{flagged} item(s) need review", "WARNING")
        return {"labels": labels}
