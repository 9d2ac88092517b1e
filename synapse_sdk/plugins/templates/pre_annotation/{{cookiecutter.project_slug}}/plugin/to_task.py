"""The ``to_task`` action: a task in a project for each data unit ``pre_annotation`` kept.

As generated it fills the sample project (``sample.py``: made on first use over the sample
collection) with a task per kept photo; ``{"predictions_path": "sample_data/predictions.jsonl"}``
also gives the matching tasks a model's pre-annotations (our JSON-lines format; a COCO
``instances.json`` works too), kept beside each task's own annotation. Running it again creates
nothing new. Every task gets this plugin's ``tags`` (``make_task``).

Fill your own project with ``{"project": 4}``; select other units with ``meta_filter``, like
``{"camera": "front"}``. To pre-label the tasks with a model, run a ``smart_tool`` plugin's
``auto_label`` action on the project afterwards.
"""

from typing import Any

from pydantic import Field
from synapse_sdk.plugins.categories.pre_annotation import ToTaskAction, ToTaskParams

from .sample import sample_project


class SampleToTaskParams(ToTaskParams):
    project: int | None = Field(None, description="A project id; default: the sample project")
    meta_filter: dict[str, Any] = Field(
        default_factory=lambda: {"pre_annotation.status": "kept"},
        description="Only data units whose meta has these values (default: those pre_annotation kept)",
    )
    tags: list[str] = Field(default_factory=lambda: ["to-annotate"], description="Tags every new task gets")


class ToTask(ToTaskAction):
    """The base action, plus this plugin's ``tags`` on every task it creates."""

    params_model = SampleToTaskParams

    def make_task(self, unit, prediction):
        task = super().make_task(unit, prediction)
        task["tags"] = list(self.params["tags"])
        return task

    def start(self):
        if self.params["project"] is None:
            self.params = {**self.params, "project": sample_project(self.client, self.run)}
        return super().start()
