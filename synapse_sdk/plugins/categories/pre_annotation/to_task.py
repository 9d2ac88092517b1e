"""``ToTaskParams`` and ``ToTaskAction``: a task of a project for each selected data unit.

Params::

    {"project": 4, "meta_filter": {"pre_annotation.status": "kept"}, "batch_size": 1000,
     "predictions_path": "predictions/instances.json"}

The data units of the project's collection (streamed) that match ``meta_filter`` (dotted paths
into their ``meta``, matched on the client; ``{"meta": {...}}`` works too) each get a task, in
requests of ``batch_size``. A task is unique per (project, data unit): the project's tasks are
read first and only the missing ones created, so running it twice creates nothing the second
time (another run creating some meanwhile is a conflict resolved by taking theirs, as the
importer does). With ``predictions_path`` each task gets its unit's prediction (COCO matched by
file name, or our JSON lines, see ``predictions.py``) as a ``predictions`` entry whose source is
the file's name; an existing task without a prediction of that source gets it added.

Model pre-labels are ``smart_tool``'s ``auto_label``: run it on the project after this action.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.categories.extra_params import validate_lifting_extra_params


class ToTaskParams(BaseModel):
    """The project the tasks go into, which data units, and an optional predictions file."""

    project: int = Field(description="the project the tasks are created in")
    data_collection: int | None = Field(None, description="default: the project's data collection")
    meta_filter: dict[str, Any] = Field(
        default_factory=dict,
        description="only units whose meta has these values, like {'pre_annotation.status': 'kept'}",
    )
    batch_size: int = Field(5000, ge=1, le=10_000, description="tasks per request")
    predictions_path: str | None = Field(None, description="a COCO .json or JSON-lines .jsonl of predictions")
    prediction_source: str | None = Field(
        None, description="the predictions' source name; default: the file's name"
    )
    extra_params: dict[str, Any] = Field(default_factory=dict)


class ToTaskAction(Action):
    """Create a project's tasks from data units, idempotently, with optional pre-annotations.

    Override :meth:`make_task` to shape each task (tags, skip some units)::

        from synapse_sdk.plugins.categories.pre_annotation import ToTaskAction

        class ToTask(ToTaskAction):
            def make_task(self, unit, prediction):
                task = super().make_task(unit, prediction)
                task["tags"] = [unit["meta"].get("camera", "unknown")]
                return task
    """

    name = "to_task"
    category = Category.PRE_ANNOTATION
    method = "job"
    is_category_base = True
    params_model = ToTaskParams
    progress_categories = {"tasks": "Creating tasks"}

    def make_task(self, unit: dict[str, Any], prediction: dict[str, Any] | None) -> dict[str, Any] | None:
        """The task of a selected data unit (``{"project", "data_unit", "predictions"?}``), or None to
        make none for it. ``prediction`` is its entry from the predictions file, if any."""
        task: dict[str, Any] = {"project": self.params["project"], "data_unit": unit["id"]}
        if prediction is not None:
            task["predictions"] = [prediction]
        return task

    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> BaseModel | None:
        """Validate params; ``extra_params`` keys that are fields of a subclassed params model are
        validated as those fields (as export's and upload's)."""

        def validate(lifted: dict[str, Any]) -> BaseModel | None:
            return super(ToTaskAction, cls).validate_params(lifted)

        return validate_lifting_extra_params(validate, cls.params_model, ToTaskParams, params)

    def start(self) -> Any:
        """Select the units, create their missing tasks a batch at a time; the counts."""
        from synapse_sdk.plugins.categories.pre_annotation.tasks import TaskMaker

        return TaskMaker(self).execute()
