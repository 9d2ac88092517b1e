"""The ``train`` base action of the ``neural_net`` category: params and the platform work around a loop.

A plugin's ``start()`` holds its training loop; the base gives it what every training needs:
the ground truth (``load_dataset``), checkpoints in the run folder to resume from
(``resume_state`` / ``save_checkpoint``: a retried attempt runs in the same folder), the
starting model's file (``checkpoint_file``) and registration of the trained model
(``register_model``).

The params keep the reference platform's names, so existing plugins carry over:

- ``dataset``: a ground-truth dataset id or name (its newest frozen version), or
  ``{"version": <id>}`` for one version;
- ``splits``: role -> split of the version, ``{"train": "train", "val": "val"}`` by default
  (a list such as ``["train", "val"]`` reads each split under its own name);
- ``checkpoint``: a registered model id to start from (fine-tuning), or None;
- ``hyperparameters``: the model's own settings (a dict the plugin defines);
- ``epochs``, ``batch_size``, ``learning_rate``, and ``name`` (the registered model's name).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator

from synapse_sdk.errors import ParamsError
from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.neural_net.checkpoints import Checkpoint
    from synapse_sdk.plugins.categories.neural_net.dataset import GroundTruth


class VersionRef(BaseModel):
    """``{"version": 12}``: one ground-truth dataset version by id."""

    version: int = Field(..., ge=1, description="a ground-truth dataset version id")


class TrainParams(BaseModel):
    """What a training run reads, starts from and how long it trains (the reference platform's names)."""

    dataset: int | str | VersionRef | None = Field(
        None,
        description='a ground-truth dataset id or name (its newest frozen version), or {"version": <id>};'
        " needed by load_dataset()",
    )
    splits: dict[str, str] | list[str] = Field(
        default_factory=lambda: {"train": "train", "val": "val"},
        description="role -> split of the version it reads; the roles are train and val",
    )
    checkpoint: int | None = Field(None, ge=1, description="a registered model id to start from")
    hyperparameters: dict[str, Any] = Field(default_factory=dict, description="the model's own settings")
    epochs: int = Field(10, ge=1, le=10_000, description="full passes over the train split")
    batch_size: int = Field(32, ge=1, le=65_536, description="images per optimizer step")
    learning_rate: float = Field(1e-3, gt=0, le=10, description="the optimizer's step size")
    name: str | None = Field(None, min_length=1, max_length=200, description="the registered model's name")
    seed: int = Field(0, description="seeds weights and shuffling: the same seed, the same model")

    @field_validator("splits")
    @classmethod
    def _has_train(cls, value: dict[str, str] | list[str]) -> dict[str, str] | list[str]:
        from synapse_sdk.plugins.categories.neural_net.dataset import normalize_splits

        if "train" not in normalize_splits(value):
            raise ValueError('needs a "train" role, like {"train": "train", "val": "val"}')
        return value


class TrainAction(Action):
    """Train a model on a ground-truth dataset of the platform; subclass it, write the loop in ``start()``."""

    name = "train"
    category = Category.NEURAL_NET
    method = "job"
    is_category_base = True
    params_model = TrainParams
    progress_categories = {
        "dataset": "Read the ground truth",
        "train": "Epochs",
        "batch": "Batches of the current epoch",
        "model_upload": "Register the trained model",
    }

    def load_dataset(self, splits: Any = None) -> GroundTruth:
        """The images and labels of ``params.splits`` (or ``splits``) of ``params.dataset``, logged."""
        from synapse_sdk.plugins.categories.neural_net.dataset import load_ground_truth

        if self.params.get("dataset") is None:
            raise ParamsError(
                'params.dataset: name the ground truth to train on, like {"dataset": "digits"} (a '
                'ground-truth dataset id or name) or {"dataset": {"version": 12}}'
            )
        self.run.set_progress(0, 1, "dataset")
        truth = load_ground_truth(self.client, self.params["dataset"], splits or self.params["splits"])
        self.run.set_progress(1, 1, "dataset")
        self.run.log("dataset", truth.describe())
        sizes = ", ".join(f"{len(items)} {role}" for role, items in truth.splits.items())
        self.run.log_message(
            f"ground truth {truth.dataset['name']!r} version {truth.version['version']}: {sizes} images, "
            f"{len(truth.classes)} classes"
        )
        return truth

    def resume_state(self) -> dict[str, Any] | None:
        """The state of the newest checkpoint in the run folder (a retried try's), or None in a fresh run."""
        from synapse_sdk.plugins.categories.neural_net.checkpoints import latest_checkpoint

        found = latest_checkpoint(self.run.path)
        if found is None:
            return None
        attempt = getattr(self.run, "attempt", None)
        self.run.log_message(
            f"resuming from the checkpoint of epoch {found.epoch}"
            + (f" (attempt {attempt})" if attempt else "")
        )
        self.run.log("resume", {"epoch": found.epoch, "checkpoint": str(found.path), "attempt": attempt})
        return found.load()

    def save_checkpoint(self, epoch: int, state: dict[str, Any]) -> Checkpoint:
        """Save epoch ``epoch``'s ``state`` in the run folder (atomically) and log where."""
        from synapse_sdk.plugins.categories.neural_net.checkpoints import save_checkpoint

        saved = save_checkpoint(self.run.path, epoch, state)
        self.run.log("checkpoint", {"epoch": epoch, "path": str(saved.path)})
        return saved

    def checkpoint_file(self) -> Path | None:
        """The file of the model ``params.checkpoint`` names (fetched and checked), or None without one."""
        from synapse_sdk.plugins.categories.neural_net.predictor import fetch_model_file, find_model

        if self.params.get("checkpoint") is None:
            return None
        record = find_model(self.client, self.params["checkpoint"], None)
        return fetch_model_file(self.client, record, self.run.path / "start")

    def register_model(
        self,
        path: str | Path,
        *,
        configuration: dict[str, Any],
        metrics: dict[str, Any],
        name: str | None = None,
    ) -> dict[str, Any]:
        """Register the trained model file with its configuration and metrics, for this run and plugin."""
        from synapse_sdk.plugins.categories.neural_net.models import register_model

        config = self.plugin_config
        default = f"{config.code}-model" if config is not None else "model"
        self.run.set_progress(0, 1, "model_upload")
        record = register_model(
            self,
            path,
            name=name or self.params.get("name") or default,
            configuration=configuration,
            metrics=metrics,
        )
        self.run.set_progress(1, 1, "model_upload")
        self.run.log_message(f"registered model {record['id']} ({record['name']})")
        return record
