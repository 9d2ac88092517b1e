"""The ``train`` action: fit the model on a CSV dataset and save it."""

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.neural_net import TrainAction as BaseTrainAction

from .model import load_points, new_model, plugin_file, save_model, train_epoch


class TrainParams(BaseModel):
    dataset_path: str = "sample_data/points.csv"
    epochs: int = Field(20, ge=1, le=100_000)
    learning_rate: float = Field(0.5, gt=0)
    output_path: str = "outputs/model.json"


class TrainAction(BaseTrainAction):
    name = "train"
    params_model = TrainParams
    progress_categories = {"training": "Model training"}

    def start(self):
        points = load_points(plugin_file(self.params["dataset_path"]))
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
        path = save_model(model, plugin_file(self.params["output_path"]))
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
