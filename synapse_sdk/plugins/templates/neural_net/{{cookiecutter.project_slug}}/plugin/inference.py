"""The ``inference`` action: predict labels for input points (served over REST by default)."""

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.neural_net import InferenceAction as BaseInferenceAction

from .model import load_model, plugin_file, predict_proba

DEFAULT_MODEL = "sample_data/model.json"


class InferenceParams(BaseModel):
    inputs: list[list[float]] = Field(default_factory=lambda: [[0.2, 0.4], [2.6, 2.9]], min_length=1)
    model_path: str = DEFAULT_MODEL
    threshold: float = Field(0.5, gt=0, lt=1)


class InferenceAction(BaseInferenceAction):
    name = "inference"
    params_model = InferenceParams
    progress_categories = {"inference": "Predictions"}

    def setup(self):
        """Load the default model once; a REST server calls this before the first request."""
        self.models = {DEFAULT_MODEL: load_model(plugin_file(DEFAULT_MODEL))}

    def start(self):
        if getattr(self, "models", None) is None:
            self.setup()
        path = self.params["model_path"]
        model = self.models[path] if path in self.models else load_model(plugin_file(path))
        inputs = self.params["inputs"]
        self.run.log_message(f"Predicting {len(inputs)} input(s)")
        predictions = []
        for number, x in enumerate(inputs, start=1):
            probability = predict_proba(model, x)
            label = int(probability >= self.params["threshold"])
            predictions.append({"input": x, "label": label, "probability": round(probability, 4)})
            self.run.set_progress(number, len(inputs), "inference")
        positives = sum(p["label"] for p in predictions)
        self.run.set_metrics({"count": len(predictions), "positive": positives}, "inference")
        return {"predictions": predictions}
