"""The ``test`` action: measure a saved model on a labelled dataset."""

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.neural_net import TestAction as BaseTestAction

from .model import (
    DATASET_PATH_HELP,
    MODEL_PATH_HELP,
    evaluate,
    input_path,
    load_model,
    load_points,
    model_file,
)


class TestParams(BaseModel):
    model_path: str | None = Field(None, description=MODEL_PATH_HELP)
    dataset_path: str | None = Field(None, description=DATASET_PATH_HELP)


class TestAction(BaseTestAction):
    name = "test"
    params_model = TestParams
    progress_categories = {"testing": "Model evaluation"}

    def start(self):
        model_path = model_file(self.params["model_path"])
        model = load_model(model_path)
        points = load_points(input_path(self.params["dataset_path"], "points.csv"))
        self.run.log_message(f"Evaluating {model_path} on {len(points)} points")
        self.run.set_progress(0, 1, "testing")
        metrics = evaluate(model, points)
        self.run.set_progress(1, 1, "testing")
        self.run.set_metrics(metrics, "validation")
        self.run.log_message(f"accuracy {metrics['accuracy']:.3f}, loss {metrics['loss']:.4f}")
        return {"status": "success", **metrics}
