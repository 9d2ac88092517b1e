"""The ``tune`` action: search the CNN's hyperparameters on a ground-truth dataset of the platform.

Each trial trains the model of ``model.py`` with its sampled settings for ``epochs`` epochs and
reports its metrics after each epoch (``val_accuracy`` is the objective by default), so the
pruner can stop a trial that falls behind. The base action records every trial in the run
(metrics ``trials``, one ``trial`` event each), registers the best trial's model and returns
its params. ``backend: "ray"`` runs the trials as Ray Tune trials on the cluster instead.

A searched name is either a training setting (``learning_rate``, ``batch_size``, ``epochs``) or
a keyword of ``model.build_model`` (``channels``, ``hidden``, ``dropout``).
"""

import inspect

from pydantic import Field, field_validator
from synapse_sdk.plugins.categories.neural_net import TuneAction as BaseTuneAction
from synapse_sdk.plugins.categories.neural_net.train import VersionRef
from synapse_sdk.plugins.categories.neural_net.tune import TuneParams as BaseTuneParams
from synapse_sdk.plugins.categories.neural_net.tuning import Hyperparameter

#: Searched names that set the training rather than the model.
TRAINING_SETTINGS = ("learning_rate", "batch_size", "epochs")


def model_settings():
    """The keywords ``model.build_model`` takes: what a trial may set on the model."""
    from .model import build_model

    keywords = inspect.signature(build_model).parameters.values()
    return [p.name for p in keywords if p.kind is inspect.Parameter.KEYWORD_ONLY]


class TuneParams(BaseTuneParams):
    dataset: int | str | VersionRef = Field(
        "digits", description='a ground-truth dataset id or name, or {"version": <id>}'
    )
    epochs: int = Field(5, ge=1, le=1000, description="epochs each trial trains for")
    hyperparameter: list[Hyperparameter] = Field(
        default_factory=lambda: [
            Hyperparameter(name="learning_rate", type="loguniform", min=3e-4, max=3e-2),
            Hyperparameter(name="channels", type="choice", options=[8, 16, 32]),
            Hyperparameter(name="dropout", type="uniform", min=0.0, max=0.5),
        ],
        min_length=1,
        description="the search space: training settings and build_model keywords",
    )

    @field_validator("hyperparameter")
    @classmethod
    def _searched_names_this_plugin_knows(cls, value):
        known = [*TRAINING_SETTINGS, *model_settings()]
        for index, item in enumerate(value):
            if item.name not in known:
                raise ValueError(
                    f"{index}.name: {item.name!r} is not a setting of this plugin; search one of {known}"
                )
        return value

    @field_validator("hyperparameters")
    @classmethod
    def _model_settings(cls, value):
        unknown = sorted(set(value) - set(model_settings()))
        if unknown:
            raise ValueError(f"build_model takes no {', '.join(unknown)}; set one of {model_settings()}")
        return value


class TuneAction(BaseTuneAction):
    name = "tune"
    params_model = TuneParams

    def train_trial(self, trial, truth):
        import torch

        from .model import build_model, evaluate, make_loader, save_model, train_epoch

        settings = {**self.params, **{k: v for k, v in trial.params.items() if k in TRAINING_SETTINGS}}
        hyperparameters = dict(self.params["hyperparameters"])
        hyperparameters.update({k: v for k, v in trial.params.items() if k not in TRAINING_SETTINGS})
        torch.manual_seed(self.params["seed"])  # one seed for every trial: they differ by their settings
        model = build_model(len(truth.classes), **hyperparameters)
        optimizer = torch.optim.Adam(model.parameters(), lr=settings["learning_rate"])
        train = make_loader(
            truth.images("train"), truth.label_ids("train"), int(settings["batch_size"]), shuffle=True
        )
        val = make_loader(truth.images("val"), truth.label_ids("val"), 256) if "val" in truth.splits else None
        for epoch in range(1, int(settings["epochs"]) + 1):
            metrics = train_epoch(model, train, optimizer)
            if val is not None:
                checked = evaluate(model, val)
                metrics.update(val_loss=checked["loss"], val_accuracy=checked["accuracy"])
            trial.report(metrics, epoch)  # raises TrialPruned when the pruner stops this trial
        save_model(trial.path / self.model_file, model, truth.classes, hyperparameters)
        return metrics
