"""The ``validation`` action: check every record of an annotated dataset and report each problem.

It succeeds with a report listing the problems; with ``fail_on_error`` it fails instead, so a
pipeline can stop on bad data.
"""

import json
from pathlib import Path

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.data_validation import ValidationAction as BaseValidationAction

SAMPLE_DATASET = Path(__file__).resolve().parents[1] / "sample_data" / "dataset.json"
REQUIRED = ("id", "width", "height", "annotations")


class ValidationParams(BaseModel):
    dataset_path: str | None = Field(
        None,
        description="A JSON list of records with id, width, height and annotations (relative to the "
        "current folder, never to the plugin folder). Default: the bundled sample_data/dataset.json.",
    )
    allowed_labels: list[str] = Field(
        default_factory=lambda: ["car", "person", "bicycle"], min_length=1, description="The known labels"
    )
    fail_on_error: bool = Field(False, description="Fail the run when a record has a problem")


def check_record(record, allowed, seen_ids):
    """The problems of one record, as short sentences."""
    missing = [key for key in REQUIRED if key not in record]
    if missing:
        return [f"missing {', '.join(missing)}"]
    problems = []
    if record["id"] in seen_ids:
        problems.append(f"duplicate id {record['id']!r}")
    seen_ids.add(record["id"])
    for n, ann in enumerate(record["annotations"], start=1):
        if ann.get("label") not in allowed:
            problems.append(f"annotation {n}: unknown label {ann.get('label')!r}")
        x, y, w, h = ann.get("bbox", (0, 0, 0, 0))
        if w <= 0 or h <= 0:
            problems.append(f"annotation {n}: empty box {ann.get('bbox')}")
        elif x < 0 or y < 0 or x + w > record["width"] or y + h > record["height"]:
            problems.append(
                f"annotation {n}: box {ann['bbox']} outside the {record['width']}x{record['height']} image"
            )
    return problems


class ValidationAction(BaseValidationAction):
    name = "validation"
    params_model = ValidationParams
    progress_categories = {"validation": "Checking records"}

    def start(self):
        given = self.params["dataset_path"]
        dataset = SAMPLE_DATASET if given is None else Path(given).expanduser().resolve()
        records = json.loads(dataset.read_text(encoding="utf-8"))
        allowed = set(self.params["allowed_labels"])
        self.run.log_message(f"Validating {len(records)} record(s)")
        errors, seen = [], set()
        for number, record in enumerate(records, start=1):
            for problem in check_record(record, allowed, seen):
                errors.append({"record": record.get("id", number), "problem": problem})
                self.run.log_message(f"record {record.get('id', number)}: {problem}", "WARNING")
            self.run.set_progress(number, len(records), "validation")
        invalid = len({e["record"] for e in errors})
        self.run.set_metrics(
            {"checked": len(records), "invalid": invalid, "errors": len(errors)}, "validation"
        )
        if errors and self.params["fail_on_error"]:
            raise ValueError(f"{len(errors)} problem(s) in {invalid} record(s); first: {errors[0]}")
        return {"passed": not errors, "checked": len(records), "invalid": invalid, "errors": errors}
