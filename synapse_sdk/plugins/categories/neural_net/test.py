"""The ``test`` base action of the ``neural_net`` category: a registered model measured on held-out data.

Which model: ``model`` (a registered model id), else the model a train ``run`` registered, else
the plugin's newest model. Which data: ``dataset`` and ``split`` (default: the dataset the
model was trained on, as its configuration records it, and its ``test`` split). A plugin's
``start()`` predicts; ``report()`` turns labels and predictions into the metrics (accuracy,
per-class precision/recall/F1) and the confusion matrix, as run metrics, a ``classification_report``
event and a PNG in the run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.categories.neural_net.train import VersionRef

if TYPE_CHECKING:
    from collections.abc import Sequence

    from synapse_sdk.plugins.categories.neural_net.dataset import GroundTruth

#: The picture of the confusion matrix, in the run folder.
CONFUSION_MATRIX_FILE = "confusion_matrix.png"


class TestParams(BaseModel):
    """Which model, on which ground truth."""

    model: int | None = Field(
        None, ge=1, description="a registered model id; default: the newest of this plugin"
    )
    run: str | None = Field(None, min_length=1, description="a train run id: test the model it registered")
    dataset: int | str | VersionRef | None = Field(
        None, description="a ground-truth dataset id, name or {'version': id}; default: the model's own"
    )
    split: str = Field("test", min_length=1, description="the split of the version it is measured on")
    batch_size: int = Field(256, ge=1, le=65_536, description="images per forward pass")


class TestAction(Action):
    """Measure a registered model on a ground-truth split; subclass it and predict in ``start()``."""

    __test__ = False  # a pytest collecting a module that imports it must not take it for a test class

    name = "test"
    category = Category.NEURAL_NET
    method = "job"
    is_category_base = True
    params_model = TestParams
    progress_categories = {"dataset": "Read the ground truth", "test": "Batches predicted"}

    def model_record(self) -> dict[str, Any]:
        """The registered model the params name (``model``, else ``run``'s, else the plugin's newest)."""
        from synapse_sdk.plugins.categories.neural_net.models import model_of_run
        from synapse_sdk.plugins.categories.neural_net.predictor import find_model

        if self.params["model"] is None and self.params["run"] is not None:
            return model_of_run(self.client, self.params["run"])
        config = self.plugin_config
        return find_model(self.client, self.params["model"], config.code if config is not None else None)

    def model_file(self, record: dict[str, Any]) -> Path:
        """The model's file, fetched into the run folder and checked against its sha256."""
        from synapse_sdk.plugins.categories.neural_net.predictor import fetch_model_file

        return fetch_model_file(self.client, record, self.run.path / "model")

    def load_dataset(self, record: dict[str, Any]) -> GroundTruth:
        """The ``split`` of ``params.dataset``, else of the version the model was trained on."""
        from synapse_sdk.errors import ParamsError
        from synapse_sdk.plugins.categories.neural_net.dataset import load_ground_truth

        dataset = self.params["dataset"]
        if dataset is None:
            trained_on = (record.get("configuration") or {}).get("dataset") or {}
            if not trained_on.get("version"):
                raise ParamsError(
                    f"params.dataset: model {record['id']} does not record its ground truth; name one, "
                    'like {"dataset": "digits"}'
                )
            dataset = {"version": int(trained_on["version"])}
        self.run.set_progress(0, 1, "dataset")
        truth = load_ground_truth(self.client, dataset, {"test": self.params["split"]})
        self.run.set_progress(1, 1, "dataset")
        self.run.log("dataset", truth.describe())
        return truth

    def report(
        self, labels: Sequence[str], predicted: Sequence[str], classes: Sequence[str]
    ) -> dict[str, Any]:
        """Metrics of ``predicted`` against ``labels`` (class names): recorded in the run (category ``test``,
        per class ``test_per_class``), the full report as a ``classification_report`` event and the
        confusion matrix drawn in the run folder; returns the report with ``confusion_matrix_png``."""
        from synapse_sdk.plugins.categories.neural_net.metrics import (
            classification_report,
            confusion_matrix_png,
        )

        names = list(classes) + sorted(set(labels) - set(classes))  # a class the model never saw counts too
        index = {name: number for number, name in enumerate(names)}
        report = classification_report([index[x] for x in labels], [index[x] for x in predicted], names)
        picture = confusion_matrix_png(
            report["confusion_matrix"], names, self.run.path / CONFUSION_MATRIX_FILE
        )
        report["confusion_matrix_png"] = str(picture)
        summary = {key: report[key] for key in ("accuracy", "precision", "recall", "f1")}
        self.run.set_metrics({**summary, "images": len(labels)}, "test")
        self.run.set_metrics(
            {
                f"{name}.{key}": value
                for name, row in report["per_class"].items()
                for key, value in row.items()
            },
            "test_per_class",
        )
        self.run.log("classification_report", report)
        self.run.log("artifact", {"name": "confusion_matrix", "path": str(picture), "mime_type": "image/png"})
        return report
