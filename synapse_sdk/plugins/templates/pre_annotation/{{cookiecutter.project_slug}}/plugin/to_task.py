"""The ``to_task`` action: turn data units into annotation tasks assigned to annotators."""

import json

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.pre_annotation import ToTaskAction as BaseToTaskAction

from .data_units import EXTENSIONS_HELP, SOURCE_PATH_HELP, scan, source_folder, user_path


class ToTaskParams(BaseModel):
    source_path: str | None = Field(None, description=SOURCE_PATH_HELP)
    extensions: list[str] = Field(
        default_factory=lambda: [".txt", ".jpg", ".png"], min_length=1, description=EXTENSIONS_HELP
    )
    annotators: list[str] = Field(
        default_factory=lambda: ["annotator-1", "annotator-2"],
        min_length=1,
        description="Who annotates; tasks are assigned to them in turn",
    )
    project: str = Field("sample-project", description="The project the tasks belong to (their id prefix)")
    output_path: str | None = Field(
        None,
        description="Where to write the tasks (relative to the current folder). "
        "Default: tasks.json in the run's folder.",
    )


class ToTaskAction(BaseToTaskAction):
    name = "to_task"
    params_model = ToTaskParams
    progress_categories = {"tasks": "Creating tasks"}

    def start(self):
        units, _, _ = scan(source_folder(self.params["source_path"]), self.params["extensions"])
        annotators = self.params["annotators"]
        self.run.log_message(f"Creating {len(units)} task(s) for {len(annotators)} annotator(s)")
        tasks, per_annotator = [], dict.fromkeys(annotators, 0)
        for number, unit in enumerate(units, start=1):
            assignee = annotators[(number - 1) % len(annotators)]
            per_annotator[assignee] += 1
            tasks.append(
                {
                    "id": f"{self.params['project']}-task-{number:04d}",
                    "project": self.params["project"],
                    "data_unit": unit["id"],
                    "file": unit["file"],
                    "assignee": assignee,
                    "status": "pending",
                }
            )
            self.run.set_progress(number, len(units), "tasks")
        given = self.params["output_path"]
        output = self.run.path / "tasks.json" if given is None else user_path(given)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(tasks, indent=2) + "\n", encoding="utf-8")
        self.run.set_metrics(per_annotator, "assignments")
        return {
            "status": "success",
            "tasks": len(tasks),
            "per_annotator": per_annotator,
            "output_path": str(output),
        }
