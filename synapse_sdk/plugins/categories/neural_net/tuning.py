"""Hyperparameter search for the ``tune`` action: what to search, the trials and their records.

The params shapes keep the reference platform's names: a ``hyperparameter`` list (``{"name":
"learning_rate", "type": "loguniform", "min": 1e-4, "max": 0.1}``) and a ``tune_config``
(``metric``, ``mode``, ``num_samples``, ``search_alg``, ``scheduler``...). Both engines sample
the same Optuna distributions: :mod:`.tuning_optuna` runs the trials here, one after the other
(TPE sampler, a pruner fed by each trial's per-epoch reports); :mod:`.tuning_ray` runs them as
Ray Tune trials on a cluster (``OptunaSearch``, a Tune scheduler). Either one hands the objective a
:class:`Trial` and a :class:`Recorder` the same events, so the action does not know which ran.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

#: ``search_alg.name`` -> the sampler; the reference platform's Ray Tune names are accepted too.
SEARCH_ALGORITHMS = {
    "tpe": "tpe",
    "optunasearch": "tpe",
    "random": "random",
    "basicvariantgenerator": "random",
}
#: What each ``type`` of a hyperparameter needs besides its name.
_NEEDS: dict[str, tuple[str, ...]] = {
    "uniform": ("min", "max"),
    "quniform": ("min", "max", "q"),
    "loguniform": ("min", "max"),
    "randint": ("min", "max"),
    "qrandint": ("min", "max", "q"),
    "lograndint": ("min", "max"),
    "choice": ("options",),
}
_INTEGER_TYPES = ("randint", "qrandint", "lograndint")


class Hyperparameter(BaseModel):
    """One searched hyperparameter, as the reference platform writes it.

    ``randint`` and ``lograndint`` exclude ``max`` and ``qrandint`` includes it, as in Ray Tune;
    ``base`` of a log-uniform is accepted and changes nothing (any base gives the same distribution).
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="The hyperparameter's name, e.g. learning_rate")
    type: Literal["uniform", "quniform", "loguniform", "randint", "qrandint", "lograndint", "choice"]
    min: float | None = None
    max: float | None = None
    q: float | None = Field(None, gt=0, description="Step between values (quniform, qrandint)")
    base: float | None = Field(None, gt=1, description="Log base (loguniform, lograndint); no effect")
    options: list[str | int | float | bool | None] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _has_what_its_type_needs(self) -> Hyperparameter:
        missing = [key for key in _NEEDS[self.type] if getattr(self, key) is None]
        if missing:
            given = {k: getattr(self, k) for k in _NEEDS[self.type]}
            example = {
                "name": self.name,
                "type": self.type,
                **{k: v or _EXAMPLES[k] for k, v in given.items()},
            }
            raise ValueError(f"type {self.type!r} needs {' and '.join(missing)}, like {example}")
        if self.min is not None and self.max is not None:
            if self.type in _INTEGER_TYPES and not (self.min.is_integer() and self.max.is_integer()):
                raise ValueError(f"type {self.type!r} needs whole numbers for min and max")
            upper_ok = self.max > self.min if self.type in ("randint", "lograndint") else self.max >= self.min
            if not upper_ok:
                raise ValueError(f"max ({self.max:g}) must be above min ({self.min:g})")
            if self.type.startswith("log") and self.min <= 0:
                raise ValueError(f"type {self.type!r} needs min > 0, got {self.min:g}")
        return self

    def distribution(self) -> BaseDistribution:
        """The Optuna distribution both engines sample this hyperparameter from."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        low, high = self.min or 0.0, self.max or 0.0
        if self.type == "choice":
            return CategoricalDistribution(list(self.options or []))
        if self.type == "uniform":
            return FloatDistribution(low, high)
        if self.type == "quniform":
            return FloatDistribution(low, high, step=self.q)
        if self.type == "loguniform":
            return FloatDistribution(low, high, log=True)
        if self.type == "qrandint":
            return IntDistribution(int(low), int(high), step=max(int(self.q or 1), 1))
        return IntDistribution(int(low), int(high) - 1, log=self.type == "lograndint")


_EXAMPLES: dict[str, Any] = {"min": 0.001, "max": 0.1, "q": 0.01, "options": [16, 32]}


class SearchAlgo(BaseModel):
    """How the next trial's hyperparameters are chosen: ``tpe`` (default) or ``random``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("tpe", description="tpe (Optuna's TPE sampler) or random")
    points_to_evaluate: list[dict[str, Any]] | None = Field(
        None, description="Hyperparameters to try first, e.g. [{'learning_rate': 0.01}]"
    )

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        name = SEARCH_ALGORITHMS.get(value.strip().lower())
        if name is None:
            raise ValueError(f"unknown search algorithm {value!r}; use 'tpe' or 'random'")
        return name


class Scheduler(BaseModel):
    """When a trial is stopped early (pruned) on its per-epoch reports.

    ``median`` (default): when its result is worse than the median of earlier trials at the same
    epoch; ``asha``: asynchronous successive halving; ``fifo``: never.
    """

    model_config = ConfigDict(extra="forbid")

    name: Literal["median", "asha", "fifo"] = "median"
    grace_period: int = Field(1, ge=1, description="Epochs every trial runs before it may be pruned")
    min_samples: int = Field(2, ge=1, description="median: trials that reported before one is pruned")
    reduction_factor: int = Field(3, ge=2, description="asha: how many trials share one promotion")
    max_t: int = Field(100, ge=1, description="asha: the most epochs a trial reports")

    @field_validator("name", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class TuneConfig(BaseModel):
    """The search itself: its objective, budget, sampler and pruning (``tune_config`` in params)."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field("val_accuracy", min_length=1, description="The reported metric to optimise")
    mode: Literal["max", "min"] = Field("max", description="max or min: whether a higher metric is better")
    num_samples: int = Field(10, ge=1, le=10_000, description="The trial budget: how many trials to run")
    time_budget_s: float | None = Field(None, gt=0, description="Start no trial after this many seconds")
    max_concurrent_trials: int | None = Field(
        None, ge=1, description="Ray: trials at once (default: as CPUs allow)"
    )
    search_alg: SearchAlgo = Field(default_factory=lambda: SearchAlgo.model_validate({}))
    scheduler: Scheduler = Field(default_factory=lambda: Scheduler.model_validate({}))
    storage_path: str | None = Field(
        None, description="Ray: where trials' checkpoints go (a folder all nodes share, or s3://...)"
    )

    def better(self, value: float, than: float) -> bool:
        """True if metric ``value`` beats ``than`` in this config's mode."""
        return value > than if self.mode == "max" else value < than


class TrialPruned(Exception):  # noqa: N818 - Optuna's name for the same signal
    """Raised by :meth:`Trial.report` when the pruner stops the trial: let it propagate."""


class Trial:
    """One trial of a search, as the objective sees it.

    ``params`` are its sampled hyperparameters; ``path`` is its own folder (save the model there,
    as ``model_file`` names it); ``report(metrics, epoch)`` after each epoch records the metrics
    and may raise :class:`TrialPruned`.
    """

    def __init__(self, number: int, params: Mapping[str, Any], path: Path, metric: str) -> None:
        self.number = number
        self.params = dict(params)
        self.path = path
        self.metric = metric
        #: The metrics of the latest ``report()`` and its epoch.
        self.last: dict[str, float] = {}
        self.epochs = 0

    def report(self, metrics: Mapping[str, float], epoch: int) -> None:
        """Record ``metrics`` after ``epoch`` (1, 2, ...); raises ``TrialPruned`` if pruned."""
        if self.metric not in metrics:
            raise ValueError(
                f"trial {self.number} reported {sorted(metrics)} without {self.metric!r}, the metric "
                "tune_config.metric optimises; report it, or set tune_config.metric to one of those"
            )
        self.last = {str(k): float(v) for k, v in metrics.items()}
        self.epochs = epoch


TrialState = Literal["complete", "pruned", "failed"]


@dataclass
class TrialRecord:
    """How a trial ended: its params, state, metrics (last reported or returned) and folder."""

    number: int
    params: dict[str, Any]
    state: TrialState
    metrics: dict[str, float] = field(default_factory=dict)
    epochs: int = 0
    #: The trial's folder on this machine (its model), when it has one here.
    path: Path | None = None
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        """What the run records about the trial (``run.log("trial", ...)``)."""
        out: dict[str, Any] = {
            "number": self.number,
            "state": self.state,
            "params": self.params,
            "epochs": self.epochs,
        }
        out["metrics"] = {k: v for k, v in self.metrics.items() if math.isfinite(v)}
        if self.error:
            out["error"] = self.error
        return out


class Recorder(Protocol):
    """Where an engine sends what the trials do (the action records it in its run)."""

    def reported(self, number: int, epoch: int, metrics: Mapping[str, float]) -> None:
        """Trial ``number`` reported ``metrics`` after ``epoch``."""

    def ended(self, record: TrialRecord) -> None:
        """A trial ended (complete, pruned or failed)."""

    def resumed(self, records: list[TrialRecord]) -> None:
        """The search goes on after an earlier attempt, which ended these trials (recorded then)."""


#: The objective: trains one trial (reporting each epoch) and returns its final metrics, or
#: None for the last reported ones.
Objective = Callable[[Trial], Mapping[str, float] | None]


def search_space(hyperparameters: list[Hyperparameter]) -> dict[str, BaseDistribution]:
    """name -> Optuna distribution; ``ValueError`` for a name given twice."""
    space: dict[str, BaseDistribution] = {}
    for item in hyperparameters:
        if item.name in space:
            raise ValueError(f"hyperparameter {item.name!r} is given twice; keep one")
        space[item.name] = item.distribution()
    return space


def best_trial(records: list[TrialRecord], config: TuneConfig) -> TrialRecord | None:
    """The complete trial with the best metric (the earliest on a tie), or None if none completed."""
    best: TrialRecord | None = None
    for record in records:
        value = record.metrics.get(config.metric, math.nan)
        if record.state != "complete" or not math.isfinite(value):
            continue
        if best is None or config.better(value, best.metrics[config.metric]):
            best = record
    return best


def final_metrics(trial: Trial, returned: Mapping[str, float] | None) -> dict[str, float]:
    """The metrics a finished trial is judged on: what the objective returned, else its last report."""
    metrics = {str(k): float(v) for k, v in returned.items()} if returned else dict(trial.last)
    if trial.metric not in metrics:
        raise ValueError(
            f"trial {trial.number} ended without {trial.metric!r} (tune_config.metric) in its metrics "
            f"{sorted(metrics)}; report or return it"
        )
    return metrics
