"""The ``train`` action: train the CNN of ``model.py`` on a ground-truth dataset of the platform.

Each epoch reports its batches (progress ``batch``) and itself (progress ``train``; metrics
``loss``, ``accuracy``, ``learning_rate``, and ``val_loss``/``val_accuracy`` with a val split),
then saves a checkpoint in the run folder. A retried attempt of the same run (``retry`` in
config.yaml) finds that checkpoint and resumes at the next epoch. The trained model is
registered in the platform (``client.create_model``) with its configuration and metrics.

As generated, ``dataset`` is ``"digits"``: when the platform has no such dataset yet, the run
imports scikit-learn's handwritten digits through the platform's ImageFolder import first.
"""

from pydantic import BaseModel, ConfigDict, Field
from synapse_sdk.errors import ParamsError
from synapse_sdk.plugins.categories.neural_net import TrainAction as BaseTrainAction
from synapse_sdk.plugins.categories.neural_net.train import TrainParams as BaseTrainParams
from synapse_sdk.plugins.categories.neural_net.train import VersionRef

#: The dataset the generated plugin trains on; imported on first use when the platform lacks it.
SAMPLE_DATASET = "digits"


class Hyperparameters(BaseModel):
    """The settings of ``model.build_model``."""

    model_config = ConfigDict(extra="forbid")

    channels: int = Field(32, ge=1, le=512, description="filters of the first convolution")
    hidden: int = Field(128, ge=1, le=4096, description="units of the dense layer")
    dropout: float = Field(0.25, ge=0, lt=1, description="dropout before each dense layer")


class TrainParams(BaseTrainParams):
    dataset: int | str | VersionRef = Field(
        SAMPLE_DATASET, description='a ground-truth dataset id or name, or {"version": <id>}'
    )
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    learning_rate: float = Field(3e-3, gt=0, le=10, description="Adam's first step size (cosine-annealed)")


class TrainAction(BaseTrainAction):
    name = "train"
    params_model = TrainParams

    def start(self):
        import torch

        from .model import build_model, evaluate, load_predictor, make_loader, save_model, train_epoch

        params = self.params
        self.import_sample_if_missing()
        truth = self.load_dataset()
        torch.manual_seed(params["seed"])
        hyperparameters = params["hyperparameters"]
        start_file = self.checkpoint_file()
        if start_file is None:
            model = build_model(len(truth.classes), **hyperparameters)
        else:  # fine-tune the registered model: its weights, its architecture
            start = load_predictor(start_file)
            if start.classes != truth.classes:
                raise ParamsError(
                    f"params.checkpoint: model {params['checkpoint']} knows classes {start.classes}, "
                    f"the dataset has {truth.classes}; start from a model of the same classes"
                )
            model, hyperparameters = start.model, start.config
        optimizer = torch.optim.Adam(model.parameters(), lr=params["learning_rate"])
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=params["epochs"])
        batch_size = params["batch_size"]
        train = make_loader(truth.images("train"), truth.label_ids("train"), batch_size, shuffle=True)
        val = make_loader(truth.images("val"), truth.label_ids("val"), 256) if "val" in truth.splits else None

        epochs, first, metrics = params["epochs"], 1, {}
        resumed = self.resume_state()
        if resumed is not None:
            model.load_state_dict(resumed["model"])
            optimizer.load_state_dict(resumed["optimizer"])
            scheduler.load_state_dict(resumed["scheduler"])
            first, metrics = resumed["epoch"] + 1, resumed["metrics"]
        self.run.log_message(f"training for epochs {first}-{epochs} of {epochs}")

        def on_batch(done, total):
            self.run.set_progress(done, total, "batch")

        for epoch in range(first, epochs + 1):
            # Seeded per epoch, so that an epoch resumed after a crash shuffles and drops out as before.
            torch.manual_seed(params["seed"] + epoch)
            train.generator.manual_seed(params["seed"] + epoch)
            learning_rate = optimizer.param_groups[0]["lr"]
            result = train_epoch(model, train, optimizer, on_batch)
            scheduler.step()
            metrics = {"epoch": epoch, **result, "learning_rate": learning_rate}
            if val is not None:
                checked = evaluate(model, val)
                metrics.update(val_loss=checked["loss"], val_accuracy=checked["accuracy"])
            self.run.set_metrics(metrics, "train")
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "metrics": metrics,
            }
            self.save_checkpoint(epoch, state)
            self.run.set_progress(epoch, epochs, "train")

        path = save_model(self.run.path / "model.pt", model, truth.classes, hyperparameters)
        configuration = {
            "dataset": truth.describe(),
            "hyperparameters": hyperparameters,
            **{key: params[key] for key in ("epochs", "batch_size", "learning_rate", "seed", "checkpoint")},
        }
        record = self.register_model(path, configuration=configuration, metrics=metrics)
        return {
            "status": "success",
            "model": record["id"],
            "model_path": str(path),
            "classes": truth.classes,
            "resumed_at_epoch": first if resumed is not None else None,
            **metrics,
        }

    def import_sample_if_missing(self):
        """Import the digits when ``dataset`` is the sample's name and the platform has no such dataset."""
        from synapse_sdk.plugins.categories.neural_net.digits import import_digits

        if self.params["dataset"] != SAMPLE_DATASET:
            return
        if self.client.list_ground_truth_datasets({"name": SAMPLE_DATASET})["results"]:
            return
        self.run.log_message(f"no ground-truth dataset {SAMPLE_DATASET!r} yet: importing the sample digits")
        report = import_digits(self.client, self.run.path / "digits", project=SAMPLE_DATASET)
        self.run.log("sample_import", report.to_json())
