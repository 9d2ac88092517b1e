# plugin/train.py
import math
import time

from pydantic import BaseModel

from synapse_sdk.plugins.categories.neural_net import TrainAction as BaseTrainAction


def train_epoch(dataset_path, epoch=0):
    """One toy epoch: a loss that falls like a real one."""
    time.sleep(0.05)
    return round(1.0 / math.sqrt(epoch + 1), 4)


class TrainParams(BaseModel):
    dataset_path: str
    epochs: int = 10
    learning_rate: float = 0.001


class TrainAction(BaseTrainAction):
    name = "train"
    params_model = TrainParams
    progress_categories = {"training": "Model training"}

    def start(self):
        dataset_path = self.params["dataset_path"]
        epochs = self.params["epochs"]
        self.run.log_message("Starting training...")
        loss = None
        for epoch in range(epochs):
            self.run.set_progress(epoch + 1, epochs, "training")
            loss = train_epoch(dataset_path, epoch)
            self.run.set_metrics({"loss": loss}, "training")
        self.run.log_message("Training completed!")
        return {"status": "success", "final_loss": loss}
