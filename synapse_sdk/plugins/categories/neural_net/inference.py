"""The ``inference`` base action of the ``neural_net`` category: a registered model at ``POST /inference``.

Bodies (exactly one of ``image``, ``images``, ``data_unit``, ``project``)::

    {"image": "<base64 PNG/JPEG>"}      -> {"class": "7", "scores": {"0": 0.01, ...}, "model": 3}
    {"data_unit": 12}                   -> the same, for the data unit's primary image
    {"images": ["<base64>", ...]}       -> {"predictions": [...], "detections": [[...]], "labels": [...]}
    {"project": 5, "status": "pending"} -> predicts every task's image and writes it as the task's prediction

The ``images`` form is the wire shape of smart_tool's HTTP model source, so a served inference
is usable as ``auto_label``'s ``{"type": "http", "url": ".../inference"}`` model: each image
gets one whole-image box with its class and score, and ``{"images": []}`` names the labels.
Every form takes ``model`` (a registered model id); a server loads its model once in
``setup()``: ``--env MODEL_ID=<id>``, else the newest model this plugin registered.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.categories.smart_tool.remote import MAX_IMAGES

if TYPE_CHECKING:
    from pathlib import Path

    from PIL.Image import Image

    from synapse_sdk.plugins.categories.neural_net.predictor import Predictor

#: The forms of a request body: exactly one is given.
FORMS = ("image", "images", "data_unit", "project")


class InferenceParams(BaseModel):
    """One image, a batch, a data unit, or a project's tasks; optionally which model."""

    model_config = ConfigDict(extra="forbid")

    image: str | None = Field(None, description="one image file (PNG or JPEG), base64-encoded")
    images: list[str] | None = Field(
        None, max_length=MAX_IMAGES, description="image files, base64 (auto_label's HTTP model shape)"
    )
    data_unit: int | None = Field(None, description="a platform data unit: its primary image")
    project: int | None = Field(None, description="predict every task of this project and write it")
    status: str | list[str] | None = Field(None, description="project form: only tasks of this status")
    limit: int | None = Field(None, ge=1, description="project form: at most this many tasks")
    batch_size: int = Field(64, ge=1, le=MAX_IMAGES, description="project form: images per predict call")
    source: str | None = Field(
        None, min_length=1, max_length=200, description="project form: the predictions' source (model:<id>)"
    )
    model: int | None = Field(None, description="a registered model id; default: the server's model")

    @model_validator(mode="after")
    def _one_form(self) -> InferenceParams:
        given = [name for name in FORMS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of {', '.join(FORMS)} (got {', '.join(given) or 'none'}), "
                'like {"image": "<base64 PNG>"}'
            )
        return self


class InferenceAction(Action):
    """Predict with a registered model; override ``load_predictor(path)`` to load your model file.

    Example::

        from synapse_sdk.plugins.categories.neural_net import InferenceAction

        from .model import load_predictor

        class Inference(InferenceAction):
            def load_predictor(self, path):
                return load_predictor(path)  # .classes, .predict(images) -> [{"class", "scores"}]
    """

    name = "inference"
    category = Category.NEURAL_NET
    method = "restapi"
    is_category_base = True
    params_model = InferenceParams
    progress_categories = {"inference": "Predicting the project's tasks"}

    # -- the hook an author overrides -----------------------------------------------------------

    def load_predictor(self, path: Path) -> Predictor:
        """The predictor of the model file at ``path`` (``classes``, ``predict(images)``)."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement load_predictor(path)")

    # -- machinery ------------------------------------------------------------------------------

    def setup(self) -> None:
        """Load the server's model once: ``MODEL_ID`` from the envs, else the plugin's newest (if any)."""
        from synapse_sdk.plugins.categories.neural_net.predictor import MODEL_ENV, served_models

        config = self.plugin_config
        self.models, record = served_models(
            self.client, config.code if config else None, self.load_predictor, self.envs.get(MODEL_ENV)
        )
        if record is None:
            self.run.log_message(
                "no model loaded yet: this plugin has registered none (run train)", "WARNING"
            )
        else:
            self.run.log_message(f"loaded model {record['id']} ({record.get('name')!r})")

    def predictor(self) -> tuple[dict[str, Any], Predictor]:
        """The record and predictor of ``params.model`` (default: the server's model)."""
        if getattr(self, "models", None) is None:
            self.setup()
        return self.models.get(self.params.get("model"))

    def start(self) -> Any:
        """Answer the request's form (see the module docstring)."""
        from synapse_sdk.plugins.categories.neural_net.predictor import data_unit_image, decode_image

        record, predictor = self.predictor()
        params = self.params
        if params["project"] is not None:
            return self.predict_project(record, predictor)
        if params["images"] is not None:
            images = [decode_image(b, f"params.images[{i}]") for i, b in enumerate(params["images"])]
            found = predictor.predict(images) if images else []
            return {
                "predictions": found,
                "detections": [[whole_image_box(p, image)] for p, image in zip(found, images, strict=True)],
                "labels": list(predictor.classes),
                "model": record["id"],
            }
        image = (
            decode_image(params["image"]) if params["image"] is not None
            else data_unit_image(self.client, params["data_unit"])
        )  # fmt: skip
        (prediction,) = predictor.predict([image])
        return {**prediction, "model": record["id"]}

    def predict_project(self, record: dict[str, Any], predictor: Predictor) -> dict[str, Any]:
        """Predict the primary image of each task of ``params.project``; write it as the task's prediction."""
        from synapse_sdk.plugins.categories.neural_net.predictor import open_image
        from synapse_sdk.plugins.categories.smart_tool.engine import MAX_PREDICTIONS, TaskItems

        params = self.params
        source = params["source"] or f"model:{record['id']}"
        filters: dict[str, Any] = {"project": params["project"]}
        if params["status"] is not None:
            filters["status"] = params["status"]
        items = TaskItems(self.client, "task", filters)
        total = min(len(items), params["limit"] or len(items))
        counts = {"predicted": 0, "skipped": 0}
        tasks = islice(iter(items), total)
        self.run.set_progress(0, total, "inference")
        while batch := list(islice(tasks, params["batch_size"])):
            ready = [t for t in batch if (t.get("files") or {}).get("data_file")]
            counts["skipped"] += len(batch) - len(ready)
            images = [open_image(self.client, int(t["files"]["data_file"])) for t in ready]
            for task, found in zip(ready, predictor.predict(images) if images else [], strict=True):
                kept = [p for p in task.get("predictions") or [] if p.get("source") != source]
                prediction = tag_prediction(found, predictor.classes, source, self.run.id)
                self.client.update_task(
                    task["id"], {"predictions": [*kept[-(MAX_PREDICTIONS - 1) :], prediction]}
                )
                counts["predicted"] += 1
            self.run.set_progress(counts["predicted"] + counts["skipped"], total, "inference")
        self.run.set_metrics({"tasks": total, **counts}, "inference")
        self.run.log_message(
            f"project {params['project']}: {counts['predicted']} task(s) predicted as {source!r}"
        )
        return {
            "project": params["project"],
            "tasks": total,
            **counts,
            "source": source,
            "model": record["id"],
        }


def whole_image_box(prediction: dict[str, Any], image: Image) -> dict[str, Any]:
    """A classification as auto_label's detection: the whole image, its class and that class's score."""
    label = str(prediction["class"])
    return {"label": label, "box": [0, 0, image.width, image.height],
            "score": float(prediction["scores"][label])}  # fmt: skip


def tag_prediction(
    prediction: dict[str, Any], classes: Any, source: str, run_id: str
) -> dict[str, Any]:  # fmt: skip
    """A task prediction (``task["predictions"]`` entry): the class as an image-level tag whose ``scores``
    attribute holds every class's score."""
    label = str(prediction["class"])
    score = round(float(prediction["scores"][label]), 4)
    every = {str(k): round(float(v), 4) for k, v in prediction["scores"].items()}
    tag = {"id": "t1", "classification": label, "attrs": [{"name": "scores", "value": every}]}
    return {
        "source": source,
        "data": {"classification": {"tags": [str(c) for c in classes]}, "images": [{"tags": [tag]}]},
        "scores": {"t1": score},
        "score": score,
        "run": run_id,
    }
