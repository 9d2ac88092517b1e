"""The ``test`` action: measure a saved model on a labelled dataset."""

from pydantic import BaseModel
from synapse_sdk.plugins.categories.neural_net import TestAction as BaseTestAction

from .model import evaluate, load_model, load_points, plugin_file


class TestParams(BaseModel):
    model_path: str = "sample_data/model.json"
    dataset_path: str = "sample_data/points.csv"


class TestAction(BaseTestAction):
    name = "test"
    params_model = TestParams
    progress_categories = {"testing": "Model evaluation"}

    def start(self):
        model = load_model(plugin_file(self.params["model_path"]))
        points = load_points(plugin_file(self.params["dataset_path"]))
        self.run.log_message(f"Evaluating {self.params['model_path']} on {len(points)} points")
        self.run.set_progress(0, 1, "testing")
        metrics = evaluate(model, points)
        self.run.set_progress(1, 1, "testing")
        self.run.set_metrics(metrics, "validation")
        self.run.log_message(f"accuracy {metrics['accuracy']:.3f}, loss {metrics['loss']:.4f}")
        return {"status": "success", **metrics}
