"""The ``auto_label`` action: pre-label a project's tasks with a real model, beside their annotations.

Run as generated, it pre-labels a sample project: ``sample_data/`` (four photos and a COCO file
naming the classes ``face`` and ``cat_face``) is imported into the platform on first use (a
project and a task per photo; importing again reuses them), and OpenCV's Haar cascades (bundled
in ``opencv-python-headless``, no download) find faces and cat faces in each task's image. The
boxes scored ``score_threshold`` or more are written as the task's prediction
(``task["predictions"]``, with a score per box); the task's own annotation is left alone unless
``overwrite_annotations: true``. Running it again replaces its prediction, never adds a second.

Label your own project with ``{"project": 3}`` (its ``bounding_box`` classes must match the
model's labels by name, or be named in ``label_map``); choose tasks with ``status`` and ``limit``;
use a model served by another plugin with
``"model": {"type": "http", "url": "http://127.0.0.1:8000/inference", "token": "..."}``.
To bring your own model, return it from ``load_model()`` below: any object with ``labels``,
``source`` and ``predict(images) -> [[Detection(label, [x, y, w, h], score), ...] per image]``.
"""

from pathlib import Path

from pydantic import Field, model_validator
from synapse_sdk.plugins.categories.smart_tool import AutoLabelAction as BaseAutoLabelAction
from synapse_sdk.plugins.categories.smart_tool import AutoLabelParams

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"
SAMPLE_PROJECT = "{{ cookiecutter.name }} sample"


class SampleAutoLabelParams(AutoLabelParams):
    project: int | None = Field(None, description="The project to pre-label; default: the sample project")

    @model_validator(mode="after")
    def _filter(self):
        """No project means the sample one; a given one is checked as usual."""
        if self.project is None:
            return self
        return AutoLabelParams._filter(self)


class AutoLabelAction(BaseAutoLabelAction):
    """Faces and cat faces by OpenCV's cascades (``params.model``); override ``load_model`` for yours."""

    params_model = SampleAutoLabelParams

    def load_model(self):
        # Your model goes here: return any object with `labels`, `source` and `predict(images)`,
        # loaded once per run. The default is the one params.model names (OpenCV, or an HTTP endpoint).
        return super().load_model()

    def start(self):
        if self.params["project"] is None:
            self.params = {**self.params, "project": self.sample_project()}
        return super().start()

    def sample_project(self):
        """The id of the sample project, imported from sample_data/ on first use."""
        from synapse_sdk.clients.backend.imports import import_coco

        report = import_coco(
            self.client, SAMPLE_DATA / "images", SAMPLE_DATA / "instances.json", project=SAMPLE_PROJECT
        )
        self.run.log_message(f"Sample project {SAMPLE_PROJECT!r}: project {report.project}")
        return report.project
