"""The ``train`` action: fit the model on a CSV dataset and save it in the run's folder."""

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.neural_net import TrainAction as BaseTrainAction

from .model import DATASET_PATH_HELP, input_path, load_points, new_model, output_path, save_model, train_epoch


class TrainParams(BaseModel):
    dataset_path: str | None = Field(None, description=DATASET_PATH_HELP)
    epochs: int = Field(20, ge=1, le=100_000, description="Full passes over the dataset")
    learning_rate: float = Field(0.5, gt=0, description="Step size of each gradient update")
    output_path: str | None = Field(
        None,
        description="Where to save the model (relative to the current folder). "
        "Default: model.json in the run's folder.",
    )


class TrainAction(BaseTrainAction):
    name = "train"
    params_model = TrainParams
    progress_categories = {"training": "Model training"}

    def start(self):
        points = load_points(input_path(self.params["dataset_path"], "points.csv"))
        epochs = self.params["epochs"]
        self.run.log_message(f"Starting training on {len(points)} points for {epochs} epochs...")
        model = new_model()
        metrics = {}
        for epoch in range(1, epochs + 1):
            metrics = train_epoch(model, points, self.params["learning_rate"])
            self.run.set_progress(epoch, epochs, "training")
            self.run.set_metrics(
                {"epoch": epoch, "loss": metrics["loss"], "accuracy": metrics["accuracy"]}, "training"
            )
        path = save_model(model, output_path(self.params["output_path"], self.run.path / "model.json"))
        self.run.log(
            "model_checkpoint",
            {"epoch": epochs, "accuracy": metrics["accuracy"], "checkpoint_path": str(path)},
        )
        self.run.log_message("Training completed!")
        return {
            "status": "success",
            "final_loss": metrics["loss"],
            "accuracy": metrics["accuracy"],
            "model_path": str(path),
        }
