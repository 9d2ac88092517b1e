"""The ``post_annotation`` action: merge several annotators' labels and flag disagreements.

Each task holds one label per annotator. The merged label is the majority vote; agreement is
the share of annotators who chose it. Tasks under ``min_agreement`` go back for review. The
merged labels go to ``reviewed.json`` in the run's folder unless ``output_path`` names another file.
"""

import json
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.post_annotation import PostAnnotationAction as BasePostAnnotationAction

SAMPLE_ANNOTATIONS = Path(__file__).resolve().parents[1] / "sample_data" / "annotations.json"


class PostAnnotationParams(BaseModel):
    annotations_path: str | None = Field(
        None,
        description='A JSON list of tasks, [{"id": ..., "annotations": [{"label": ...}, ...]}] (relative '
        "to the current folder). Default: the bundled sample_data/annotations.json.",
    )
    min_agreement: float = Field(
        0.6, gt=0, le=1, description="The share of annotators that must agree for a label to be accepted"
    )
    output_path: str | None = Field(
        None,
        description="Where to write the reviewed labels (relative to the current folder). "
        "Default: reviewed.json in the run's folder.",
    )


def user_path(path: str) -> Path:
    """A path the user passed: absolute as given, relative to the current folder (where they ran the
    command) otherwise; never relative to the plugin folder, which is read-only once published."""
    return Path(path).expanduser().resolve()


class PostAnnotationAction(BasePostAnnotationAction):
    name = "post_annotation"
    params_model = PostAnnotationParams
    progress_categories = {"review": "Merging annotations"}

    def start(self):
        given = self.params["annotations_path"]
        source = SAMPLE_ANNOTATIONS if given is None else user_path(given)
        tasks = json.loads(source.read_text(encoding="utf-8"))
        self.run.log_message(f"Merging annotations of {len(tasks)} task(s)")
        reviewed = []
        for number, task in enumerate(tasks, start=1):
            votes = Counter(a["label"] for a in task["annotations"])
            if not votes:
                reviewed.append(
                    {"task": task["id"], "label": None, "agreement": 0.0, "status": "needs_review"}
                )
            else:
                (label, count), total = votes.most_common(1)[0], sum(votes.values())
                agreement = round(count / total, 4)
                status = "accepted" if agreement >= self.params["min_agreement"] else "needs_review"
                reviewed.append(
                    {"task": task["id"], "label": label, "agreement": agreement, "status": status}
                )
            self.run.set_progress(number, len(tasks), "review")
        given = self.params["output_path"]
        output = self.run.path / "reviewed.json" if given is None else user_path(given)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(reviewed, indent=2) + "\n", encoding="utf-8")
        accepted = sum(r["status"] == "accepted" for r in reviewed)
        mean = sum(r["agreement"] for r in reviewed) / max(len(reviewed), 1)
        self.run.set_metrics(
            {
                "accepted": accepted,
                "needs_review": len(reviewed) - accepted,
                "mean_agreement": round(mean, 4),
            },
            "review",
        )
        return {
            "status": "success",
            "accepted": accepted,
            "needs_review": len(reviewed) - accepted,
            "output_path": str(output),
        }
