"""The ``inference`` action: predict labels for input points (served over REST by default)."""

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.neural_net import InferenceAction as BaseInferenceAction

from .model import MODEL_PATH_HELP, load_model, model_file, predict_proba


class InferenceParams(BaseModel):
    inputs: list[list[float]] = Field(
        default_factory=lambda: [[0.2, 0.4], [2.6, 2.9]], min_length=1, description="The points to label"
    )
    model_path: str | None = Field(None, description=MODEL_PATH_HELP)
    threshold: float = Field(0.5, gt=0, lt=1, description="The probability from which a point is labelled 1")


class InferenceAction(BaseInferenceAction):
    name = "inference"
    params_model = InferenceParams
    progress_categories = {"inference": "Predictions"}

    def setup(self):
        """Load the bundled sample model once; a REST server calls this before the first request."""
        self.sample_model = load_model(model_file(None))

    def start(self):
        if self.params["model_path"] is not None:
            model = load_model(model_file(self.params["model_path"]))
        else:
            if getattr(self, "sample_model", None) is None:
                self.setup()
            model = self.sample_model
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
