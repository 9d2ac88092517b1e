"""The ``tune`` base action of the ``neural_net`` category: a hyperparameter search around one training.

A plugin writes ``train_trial(trial, data)``: train with ``trial.params``, call
``trial.report(metrics, epoch)`` after each epoch (it raises ``TrialPruned`` when the pruner
stops the trial: let it propagate), save the model as ``trial.path / model_file`` and return
the final metrics. The base does the rest: reads the ground truth once (``load_data``), runs
``tune_config.num_samples`` trials with Optuna here (``backend: "optuna"``, the default) or as
Ray Tune trials on the cluster (``backend: "ray"``), records every trial in the run (metrics
``trials`` per epoch, a ``trial`` event when each ends, progress ``trials``), registers the
best trial's model and returns its params.

The params are the train action's (``dataset``, ``splits``, ``checkpoint``, ``hyperparameters``,
``epochs``, ``batch_size``, ``learning_rate``, ``name``, ``seed``) plus the reference
platform's search params::

    {"hyperparameter": [{"name": "learning_rate", "type": "loguniform", "min": 1e-4, "max": 0.1},
                        {"name": "channels", "type": "choice", "options": [16, 32]}],
     "tune_config": {"metric": "val_accuracy", "mode": "max", "num_samples": 20,
                     "scheduler": {"name": "median", "grace_period": 1}},
     "backend": "optuna"}
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from synapse_sdk.errors import UsageError
from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.neural_net.train import TrainAction, TrainParams
from synapse_sdk.plugins.categories.neural_net.tuning import (
    Hyperparameter,
    Trial,
    TrialRecord,
    TuneConfig,
)

if TYPE_CHECKING:
    from synapse_sdk.plugins.run.run import Run

#: The search space when params give none: the learning rate, log-uniform.
DEFAULT_SPACE = {"name": "learning_rate", "type": "loguniform", "min": 1e-4, "max": 0.1}
#: Set in a Ray job's driver: connect to the job's cluster with the job's runtime env.
_RAY_JOB_ENV = "RAY_JOB_CONFIG_JSON_ENV_VAR"


class TuneParams(TrainParams):
    """The train params, plus what to search (``hyperparameter``), how (``tune_config``) and where."""

    hyperparameter: list[Hyperparameter] = Field(
        default_factory=lambda: [Hyperparameter.model_validate(DEFAULT_SPACE)],
        min_length=1,
        description="The search space: one entry per searched hyperparameter (default: learning_rate)",
    )
    tune_config: TuneConfig = Field(default_factory=lambda: TuneConfig.model_validate({}))
    backend: Literal["optuna", "ray"] = Field(
        default="optuna",
        description="optuna: trials one after the other here; ray: Ray Tune trials on the cluster",
    )
    num_cpus: float = Field(default=1, gt=0, description="ray: CPUs each trial holds")
    num_gpus: float = Field(default=0, ge=0, description="ray: GPUs each trial holds")


class TuneAction(TrainAction):
    """Search hyperparameters on a ground-truth dataset; subclass it and write ``train_trial()``."""

    name = "tune"
    category = Category.NEURAL_NET
    method = "job"
    is_category_base = True
    params_model = TuneParams
    progress_categories = {
        "dataset": "Read the ground truth",
        "trials": "Trials of the search",
        "model_upload": "Register the best trial's model",
    }
    #: The file, in each trial's folder, that holds its model: the best trial's is registered.
    model_file: ClassVar[str] = "model.pt"

    # -- what authors write ---------------------------------------------------------------------

    def train_trial(self, trial: Trial, data: Any) -> Mapping[str, float] | None:
        """Train one trial with ``trial.params`` on ``data`` (what ``load_data`` returned).

        Call ``trial.report(metrics, epoch)`` after every epoch, save the model as
        ``trial.path / self.model_file``, return the final metrics (None: the last reported).
        On Ray it runs in a worker: report through ``trial``, not ``self.run``.
        """
        raise NotImplementedError(f"{type(self).__qualname__} must implement train_trial(trial, data)")

    def load_data(self) -> Any:
        """What every trial trains on, read once: by default the ground truth of ``dataset``/``splits``."""
        return self.load_dataset()

    # -- the search -----------------------------------------------------------------------------

    def start(self) -> Any:
        """Read the data, run the search, register the best trial's model; returns the best params."""
        from synapse_sdk.plugins.categories.neural_net.tuning import search_space

        params = self.tune_params
        if params.backend == "ray":
            self.connect_ray()  # fails fast, before the data is read
        space = search_space(params.hyperparameter)
        data = self.load_data()
        records = self.search(space, data)
        return self.conclude(records, data)

    def search(self, space: Mapping[str, Any], data: Any) -> list[TrialRecord]:
        """Run the trials on the chosen backend, each recorded in the run; every trial's record."""
        params = self.tune_params
        config = params.tune_config
        recorder = RunRecorder(self.run, config)
        folder, objective = self.run.path / "trials", _TrialRunner(self, data)
        self.run.set_progress(0, config.num_samples, "trials")
        self.run.log_message(
            f"searching {', '.join(space)} over {config.num_samples} trials with {params.backend} "
            f"({config.search_alg.name} sampler, {config.scheduler.name} pruning), best {config.mode} "
            f"{config.metric}"
        )
        if params.backend == "ray":
            from synapse_sdk.plugins.categories.neural_net import tuning_ray

            resources = {"cpu": params.num_cpus, **({"gpu": params.num_gpus} if params.num_gpus else {})}
            return tuning_ray.search(config, space, objective, recorder, folder, params.seed, resources)
        from synapse_sdk.plugins.categories.neural_net import tuning_optuna

        return tuning_optuna.search(config, space, objective, recorder, folder, params.seed)

    def conclude(self, records: list[TrialRecord], data: Any) -> dict[str, Any]:
        """The search's result: trial counts, the best trial and its params, its model registered."""
        from synapse_sdk.plugins.categories.neural_net.tuning import best_trial

        config = self.tune_params.tune_config
        best = best_trial(records, config)
        result: dict[str, Any] = {
            "status": "success",
            "backend": self.tune_params.backend,
            "metric": config.metric,
            "trials": {
                state: sum(r.state == state for r in records) for state in ("complete", "pruned", "failed")
            },
            "best_trial": best.summary() if best is not None else None,
            "best_params": best.params if best is not None else None,
            "model": None,
        }
        if best is None:
            self.run.log_message("no trial completed: nothing to register", "WARNING")
            return result
        value = best.metrics[config.metric]
        self.run.log_message(f"best: trial {best.number}, {config.metric}={value:.4g}, params {best.params}")
        self.run.set_metrics({"trial": best.number, **_finite(best.metrics)}, "best")
        file = best.path / self.model_file if best.path is not None else None
        if file is None or not file.is_file():
            self.run.log_message(
                f"trial {best.number} saved no {self.model_file}: no model registered", "WARNING"
            )
            return result
        configuration = self.model_configuration(best, data)
        record = self.register_model(file, configuration=configuration, metrics=best.metrics)
        return {**result, "model": record["id"], "model_path": str(file)}

    def model_configuration(self, best: TrialRecord, data: Any) -> dict[str, Any]:
        """The configuration the best model is registered with, as train's: its settings (a searched
        train param such as ``learning_rate`` at its trial's value), ``hyperparameters`` (the fixed
        ones and the searched rest), and ``tuned``: the trial, its params and the backend."""
        training = {key: self.params.get(key) for key in ("epochs", "batch_size", "learning_rate", "seed")}
        searched = {k: v for k, v in best.params.items() if k in TrainParams.model_fields}
        model = {k: v for k, v in best.params.items() if k not in TrainParams.model_fields}
        configuration: dict[str, Any] = {
            **training,
            **searched,
            "hyperparameters": {**dict(self.params.get("hyperparameters") or {}), **model},
            "tuned": {"trial": best.number, "params": best.params, "backend": self.tune_params.backend},
        }
        describe = getattr(data, "describe", None)
        if callable(describe):
            configuration["dataset"] = describe()
        return configuration

    @property
    def tune_params(self) -> TuneParams:
        """The validated params as a ``TuneParams`` (the plugin's own subclass when it has one)."""
        if isinstance(self.validated_params, TuneParams):
            return self.validated_params
        return TuneParams.model_validate(self.params)

    def connect_ray(self) -> None:
        """Connect this process to the Ray cluster the trials run on, once.

        In a Ray job (the action run on a cluster) that is the job's cluster, with the job's runtime
        env (the plugin folder and requirements). Run here, it is ``SYNAPSE_RAY_ADDRESS``, with this
        plugin's runtime env so that the trials' workers can import the plugin.
        """
        import os

        import ray

        if ray.is_initialized():
            return
        quiet: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
        if _RAY_JOB_ENV in os.environ:
            ray.init(**quiet)
            return
        from synapse_sdk.execution.ray.cluster import NAMESPACE, check_reachable
        from synapse_sdk.runtime_env.ray import backend_env_vars, to_ray_runtime_env
        from synapse_sdk.settings import Settings

        settings = Settings.from_env()
        if not settings.ray_address:
            raise UsageError(
                "params.backend: 'ray' runs the trials on a Ray cluster, and none is set; run the action "
                "with --ray-address ADDRESS (or SYNAPSE_RAY_ADDRESS), or use backend 'optuna'"
            )
        check_reachable(settings.ray_address)
        config = self.plugin_config
        env = to_ray_runtime_env(
            self.get_runtime_env(),
            config.package_manager if config is not None else "pip",
            extra_env_vars=backend_env_vars(settings),
        )
        ray.init(address=settings.ray_address, runtime_env=env, namespace=NAMESPACE, **quiet)

    def __getstate__(self) -> dict[str, Any]:
        """What a Ray trial gets of the action: its params and config, not the run or the client."""
        state = dict(self.__dict__)
        state["attached_run"] = state["attached_client"] = None
        return state


@dataclass
class _TrialRunner:
    """The objective both engines call: the action's ``train_trial`` on the data read once."""

    action: TuneAction
    data: Any

    def __call__(self, trial: Trial) -> Mapping[str, float] | None:
        return self.action.train_trial(trial, self.data)


class RunRecorder:
    """Records what trials do in the tune run: metrics ``trials`` per epoch, a ``trial`` event each."""

    def __init__(self, run: Run, config: TuneConfig) -> None:
        self.run = run
        self.config = config
        self.ended_trials = 0

    def reported(self, number: int, epoch: int, metrics: Mapping[str, float]) -> None:
        """One epoch of trial ``number``: a row of metrics ``trials``."""
        self.run.set_metrics({"trial": number, "epoch": epoch, **_finite(metrics)}, "trials")

    def resumed(self, records: list[TrialRecord]) -> None:
        """A retried attempt goes on with the search: the trials ended before count."""
        self.ended_trials += len(records)
        done = f"{len(records)} of {self.config.num_samples} trials"
        self.run.log_message(f"resuming the search of an earlier attempt: {done} ended there")
        # Those trials' own events may not have reached the run before its worker died.
        self.run.log("resumed", {"trials": [record.summary() for record in records]})

    def ended(self, record: TrialRecord) -> None:
        """A trial ended: its ``trial`` event, a log line and the search's progress."""
        self.ended_trials += 1
        self.run.log("trial", record.summary())
        value = record.metrics.get(self.config.metric)
        shown = f"{self.config.metric}={value:.4g}" if value is not None else "no metric"
        level = "WARNING" if record.state == "failed" else "INFO"
        detail = f": {record.error}" if record.error else ""
        self.run.log_message(
            f"trial {record.number} {record.state} after {_epochs(record.epochs)}, {shown}, "
            f"params {record.params}{detail}",
            level,
        )
        total = max(self.config.num_samples, self.ended_trials)
        self.run.set_progress(self.ended_trials, total, "trials")


def _finite(metrics: Mapping[str, float]) -> dict[str, float]:
    """The metrics that are finite numbers (a run stores no NaN)."""
    return {k: v for k, v in metrics.items() if isinstance(v, int | float) and math.isfinite(v)}


def _epochs(count: int) -> str:
    return f"{count} epoch" if count == 1 else f"{count} epochs"
