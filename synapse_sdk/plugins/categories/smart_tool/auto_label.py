"""``AutoLabelParams`` and ``AutoLabelAction``: the ``auto_label`` base action, pre-labelling a project.

Params::

    {"project": 3, "status": "pending", "score_threshold": 0.5, "batch_size": 16,
     "model": {"type": "opencv", "cascades": ["face", "cat_face"]}}

or a model served by another plugin: ``"model": {"type": "http", "url":
"http://127.0.0.1:8000/inference", "token": "..."}`` (``remote.py`` has the wire shape; the
token is a secret, masked in the run). The model is loaded once (``load_model()``), its labels
mapped to the project's box classes by name (``labels.py``), then run over the tasks in batches
(``engine.py``). Predictions go to ``task["predictions"]``, never into the task's own ``data``
unless ``overwrite_annotations: true``; a re-run replaces the predictions of the same source.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.categories.smart_tool.detection import Detection, Detector, ImageInput
from synapse_sdk.plugins.categories.smart_tool.remote import MAX_IMAGES


class OpenCvModel(BaseModel):
    """OpenCV's bundled Haar cascades, one per label (``opencv.CASCADES``)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["opencv"] = "opencv"
    cascades: list[str] = Field(
        default_factory=lambda: ["face", "cat_face"], min_length=1, description="the labels to detect"
    )
    scale_factor: float = Field(1.1, gt=1, le=2, description="the image pyramid's step")
    min_neighbors: int | None = Field(None, ge=0, le=100, description="default: each cascade's own")
    min_size: int = Field(24, ge=1, le=4096, description="the smallest box, in pixels")

    @field_validator("cascades")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        from synapse_sdk.plugins.categories.smart_tool.opencv import check_cascades

        return check_cascades(value)


class HttpModel(BaseModel):
    """A detection endpoint served by another plugin (see ``remote.py`` for the wire shape)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["http"] = "http"
    url: str = Field(description="the endpoint, like http://127.0.0.1:8000/inference")
    token: str | None = Field(None, description="sent as 'Authorization: Bearer <token>'; masked in the run")
    labels: list[str] | None = Field(None, description="the model's labels; default: asked from the endpoint")
    timeout: float = Field(30.0, gt=0, le=3600, description="seconds per request")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL like 'http://127.0.0.1:8000/inference', got {value!r}")
        return value


def _model_kind(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("type") or ("http" if "url" in value else "opencv"))
    return str(getattr(value, "type", "opencv"))


ModelChoice = Annotated[
    Annotated[OpenCvModel, Tag("opencv")] | Annotated[HttpModel, Tag("http")],
    Discriminator(_model_kind),
]


class AutoLabelParams(BaseModel):
    """Which tasks (``project`` + ``status`` + ``filter``), which model, and what to keep and write."""

    project: int = Field(description="the project whose tasks are pre-labelled")
    status: str | list[str] | None = Field(None, description="only tasks of this status (or these)")
    filter: dict[str, Any] = Field(default_factory=dict, description="more task filters: data_unit...")
    model: ModelChoice = Field(
        default_factory=lambda: OpenCvModel.model_validate({}), description="the model to run"
    )
    score_threshold: float = Field(0.5, ge=0, le=1, description="boxes scored lower are dropped")
    batch_size: int = Field(16, ge=1, le=MAX_IMAGES, description="images per call of the model")
    label_map: dict[str, str] = Field(default_factory=dict, description="{model label: project class}")
    allow_unmatched_labels: bool = Field(False, description="drop the boxes of labels no class matches")
    overwrite_annotations: bool = Field(False, description="also write the boxes as the task's own data")
    limit: int | None = Field(None, ge=1, description="label at most this many tasks")
    source: str | None = Field(None, min_length=1, max_length=200, description="default: the model's name")

    @model_validator(mode="after")
    def _filter(self) -> AutoLabelParams:
        from synapse_sdk.plugins.categories.export.targets import check_filter

        if "project" in self.filter or "status" in self.filter or "expand" in self.filter:
            raise ValueError("filter: give project and status as params of their own, not in filter")
        task_filter = {"project": self.project, **self.filter}
        if self.status is not None:
            task_filter["status"] = self.status
        problems = check_filter("task", task_filter)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class AutoLabelAction(Action):
    """Pre-label a project's tasks with a model; override ``load_model()`` to bring your own.

    ``load_model()`` returns a ``Detector`` (``labels``, ``source``, ``predict(images)``); by default
    the one ``params.model`` names. ``predict(images)`` runs it on a batch of ``ImageInput``.

    Example::

        from synapse_sdk.plugins.categories.smart_tool import AutoLabelAction, Detection, Detector

        class Centre(Detector):
            source, labels = "toy:centre", ("face",)

            def predict(self, images):
                return [[Detection("face", (10, 10, 20, 20), 0.9)] for _ in images]

        class MyAutoLabel(AutoLabelAction):
            def load_model(self):
                return Centre()
    """

    name = "auto_label"
    category = Category.SMART_TOOL
    method = "task"
    is_category_base = True
    params_model = AutoLabelParams
    progress_categories = {"auto_label": "Labelling tasks"}

    # -- the hooks an author overrides -----------------------------------------------------------

    def load_model(self) -> Detector:
        """The model, loaded once per run: by default the one ``params.model`` names."""
        model = self.params["model"]
        if model["type"] == "http":
            from synapse_sdk.plugins.categories.smart_tool.remote import HttpDetector

            return HttpDetector(model["url"], token=model["token"], labels=model["labels"],
                                timeout=model["timeout"])  # fmt: skip
        from synapse_sdk.plugins.categories.smart_tool.opencv import HaarCascadeDetector

        return HaarCascadeDetector(
            model["cascades"], scale_factor=model["scale_factor"], min_neighbors=model["min_neighbors"],
            min_size=model["min_size"],
        )  # fmt: skip

    def predict(self, images: Sequence[ImageInput]) -> list[list[Detection]]:
        """The boxes the model finds in each image of a batch (one list per image, in order)."""
        return self.model.predict(images)

    # -- machinery ------------------------------------------------------------------------------

    def prediction_source(self) -> str:
        """The ``source`` the predictions are written under: the param, else the model's."""
        given = self.params.get("source") or getattr(self.model, "source", None)
        return str(given or type(self.model).__name__)

    def start(self) -> Any:
        """Check the project, load the model, map its labels, label the tasks; the summary."""
        from synapse_sdk.plugins.categories.smart_tool.engine import AutoLabelLoop, outcome
        from synapse_sdk.plugins.categories.smart_tool.labels import box_classes, map_labels

        project = self.client.get_project(self.params["project"])
        self.model = self.load_model()
        try:
            labels = [str(label) for label in getattr(self.model, "labels", ())]
            mapping = map_labels(
                labels, project, self.params["label_map"],
                allow_unmatched=self.params["allow_unmatched_labels"],
            )  # fmt: skip
            dropped = [label for label in labels if label not in mapping]
            if dropped:
                self.run.log_message(
                    f"label(s) {', '.join(dropped)} match no class of project {project['id']}: their boxes "
                    "are dropped (allow_unmatched_labels)",
                    "WARNING",
                )
            loop = AutoLabelLoop(self, mapping, box_classes(project))
            return outcome(loop, loop.run_all())
        finally:
            close = getattr(self.model, "close", None)
            if callable(close):
                close()
