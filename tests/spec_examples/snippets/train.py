# plugin/train.py — the spec's "Implement Actions" example, verbatim below the helper it calls.
def train_epoch(dataset_path):
    """The spec leaves the training step to the author; a falling toy loss stands in for it."""
    train_epoch.calls = getattr(train_epoch, "calls", 0) + 1
    return round(1.0 / train_epoch.calls, 4)


# --- spec ---
from synapse_sdk.plugins.categories.neural_net import TrainAction as BaseTrainAction
from pydantic import BaseModel
class TrainParams(BaseModel):
    dataset_path: str
    epochs: int = 10
    learning_rate: float = 0.001
class TrainAction(BaseTrainAction):
    name = "train"
    params_model = TrainParams
    def start(self):
        # Access validated parameters
        dataset_path = self.params['dataset_path']
        epochs = self.params['epochs']
        # Log progress
        self.run.log_message("Starting training...")
        # Your training logic here
        for epoch in range(epochs):
            # Update progress
            self.run.set_progress(epoch + 1, epochs, "training")
            # Training step
            loss = train_epoch(dataset_path)
            # Log metrics
            self.run.set_metrics({"loss": loss}, "training")
        self.run.log_message("Training completed!")
        return {"status": "success", "final_loss": loss}
