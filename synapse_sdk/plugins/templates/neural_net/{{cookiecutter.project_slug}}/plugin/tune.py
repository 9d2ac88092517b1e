"""The ``tune`` action: random search over learning rate and epochs, keeping the best trial."""

import random

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.neural_net import TuneAction as BaseTuneAction

from .model import DATASET_PATH_HELP, evaluate, input_path, load_points, new_model, train_epoch


class TuneParams(BaseModel):
    dataset_path: str | None = Field(None, description=DATASET_PATH_HELP)
    trials: int = Field(6, ge=1, le=1000, description="How many random configurations to try")
    min_learning_rate: float = Field(0.01, gt=0, description="The smallest learning rate tried")
    max_learning_rate: float = Field(2.0, gt=0, description="The largest learning rate tried")
    max_epochs: int = Field(30, ge=1, description="The most epochs a trial trains for")
    seed: int = Field(0, description="Seed of the random search, so a search can be repeated")


class TuneAction(BaseTuneAction):
    name = "tune"
    params_model = TuneParams
    progress_categories = {"tuning": "Hyperparameter trials"}

    def start(self):
        points = load_points(input_path(self.params["dataset_path"], "points.csv"))
        rng = random.Random(self.params["seed"])
        trials = self.params["trials"]
        self.run.log_message(f"Tuning with {trials} trials")
        best = None
        for trial in range(1, trials + 1):
            # Log-uniform learning rate, uniform epochs.
            low, high = self.params["min_learning_rate"], self.params["max_learning_rate"]
            learning_rate = round(low * (high / low) ** rng.random(), 5)
            epochs = rng.randint(1, self.params["max_epochs"])
            model = new_model()
            for _ in range(epochs):
                train_epoch(model, points, learning_rate)
            metrics = evaluate(model, points)
            self.run.set_metrics(
                {"trial": trial, "learning_rate": learning_rate, "epochs": epochs, **metrics}, "tuning"
            )
            self.run.set_progress(trial, trials, "tuning")
            if best is None or metrics["loss"] < best["loss"]:
                best = {"trial": trial, "learning_rate": learning_rate, "epochs": epochs, **metrics}
                self.run.log_message(f"trial {trial}: new best loss {metrics['loss']:.4f}")
        return {"status": "success", "best": best}
