"""The ``tune`` action's search as Ray Tune trials on a cluster: ``OptunaSearch`` and a Tune scheduler.

Each trial runs the same objective as :func:`.tuning.search` does, in a Ray worker, with a
:class:`Trial` whose ``report()`` is ``ray.tune.report``. The driver (the action's process)
records what the trials report through a Tune callback, so the run sees every trial as the
local search shows it. A trial that ends normally reports once more, with its folder as a Tune
checkpoint and a marker: that is how a complete trial is told from one the scheduler stopped
(pruned), and how the best trial's model reaches the driver from whichever node trained it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.plugins.categories.neural_net.tuning import (
    Objective,
    Recorder,
    Scheduler,
    Trial,
    TrialRecord,
    TrialState,
    TuneConfig,
    best_trial,
    final_metrics,
)
from synapse_sdk.plugins.categories.neural_net.tuning_optuna import sampler

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

#: Nested in every result a trial reports: its number, the names it reported, and whether it is
#: the closing report of a trial that ended normally.
RESULT_KEY = "synapse_trial"
#: Added by the search algorithm to each trial's config: the trial's number.
NUMBER_KEY = "__trial_number"
#: Ray's switch between its two console reporters; with the old one, ``verbose=0`` prints nothing.
_NEW_OUTPUT = "RAY_AIR_NEW_OUTPUT"


class _RayTrial(Trial):
    """A trial inside a Ray worker: ``report()`` is a Tune result (the scheduler may stop the trial)."""

    def report(self, metrics: Mapping[str, float], epoch: int) -> None:
        from ray import tune

        super().report(metrics, epoch)
        tune.report(_result(self, final=False))


def _result(trial: Trial, *, final: bool) -> dict[str, Any]:
    # The names as one string: Tune's TensorBoard logger warns about a list, and skips a string.
    marker = {"number": trial.number, "keys": ",".join(sorted(trial.last)), "final": final}
    return {**trial.last, "epoch": trial.epochs, RESULT_KEY: marker}


def _marker(result: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``RESULT_KEY`` marker of a result, nested (callbacks) or flattened (``key/field``, schedulers)."""
    result = result or {}
    nested = result.get(RESULT_KEY)
    if isinstance(nested, dict):
        return nested
    prefix = f"{RESULT_KEY}/"
    return {key[len(prefix) :]: value for key, value in result.items() if key.startswith(prefix)}


def _metrics(result: Mapping[str, Any], marker: Mapping[str, Any]) -> dict[str, float]:
    """The metrics the trial reported in ``result`` (not the ones Tune adds)."""
    names = str(marker.get("keys") or "").split(",")
    return {name: float(result[name]) for name in names if name in result}


def _error_lines(trial: Any) -> list[str]:
    """The trial's traceback, as lines: from its error file here, else from Tune's storage."""
    local = trial.error_file
    if local and Path(local).is_file():
        text: Any = Path(local).read_text(errors="replace")
    else:
        text = trial.get_error()
    return str(text).strip().splitlines() if text else []


def run_trial(config: dict[str, Any], *, objective: Objective, metric: str) -> None:
    """The Tune trainable: one trial in a Ray worker, its folder sent back as a checkpoint."""
    from ray import tune

    params = dict(config)
    number = int(params.pop(NUMBER_KEY))
    folder = Path(tempfile.mkdtemp(prefix=f"synapse-trial-{number:04d}-"))
    try:
        trial = _RayTrial(number, params, folder, metric)
        trial.last = final_metrics(trial, objective(trial))
        tune.report(_result(trial, final=True), checkpoint=tune.Checkpoint.from_directory(str(folder)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the checkpoint is a copy in Tune's storage


def scheduler(config: Scheduler, metric: str, mode: str) -> Any:
    """The Tune scheduler of ``config``, on the clock of the trials' epochs."""
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    if config.name == "median":
        return _median_pruning(config, metric, mode)
    if config.name == "asha":
        # One more than max_t: the closing report of a complete trial must not count as a stop.
        return ASHAScheduler(
            time_attr="training_iteration",
            grace_period=config.grace_period,
            reduction_factor=config.reduction_factor,
            max_t=config.max_t + 1,
        )
    return FIFOScheduler()


def _median_pruning(config: Scheduler, metric: str, mode: str) -> Any:
    """Optuna's median pruning as a Tune scheduler, so that ``median`` means one rule on both backends.

    A trial is stopped at an epoch (from ``grace_period`` on, once ``min_samples`` trials completed)
    when its best value so far is worse than the median of the complete trials' values at that
    epoch. Tune's own ``MedianStoppingRule`` pauses trials while it lacks samples, and a paused
    function trial without a checkpoint starts over.
    """
    import statistics

    from ray.tune.schedulers import FIFOScheduler, TrialScheduler

    sign = 1.0 if mode == "max" else -1.0

    class MedianPruning(FIFOScheduler):
        def __init__(self) -> None:
            super().__init__()
            self.values: dict[str, dict[int, float]] = {}  # trial id -> epoch -> value
            self.complete: set[str] = set()

        def on_trial_result(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> str:
            marker = _marker(result)
            if not marker or marker["final"] or metric not in result:
                return str(TrialScheduler.CONTINUE)
            epoch, mine = int(result["epoch"]), self.values.setdefault(trial.trial_id, {})
            mine[epoch] = sign * float(result[metric])
            if epoch < config.grace_period or len(self.complete) < config.min_samples:
                return str(TrialScheduler.CONTINUE)
            others = [self.values[t][epoch] for t in self.complete if epoch in self.values[t]]
            if others and max(mine.values()) < statistics.median(others):
                return str(TrialScheduler.STOP)
            return str(TrialScheduler.CONTINUE)

        def on_trial_complete(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> None:
            if _marker(result).get("final"):
                self.complete.add(trial.trial_id)

    return MedianPruning()


def _searcher(config: TuneConfig, space: Mapping[str, BaseDistribution], seed: int | None) -> Any:
    """``OptunaSearch`` over ``space`` that also numbers the trials (0, 1, ...) in their config."""
    from ray.tune.search.optuna import OptunaSearch

    class NumberedOptunaSearch(OptunaSearch):
        issued = 0

        def suggest(self, trial_id: str) -> Any:
            suggested = super().suggest(trial_id)
            if isinstance(suggested, dict):
                suggested = {**suggested, NUMBER_KEY: self.issued}
                self.issued += 1
            return suggested

    return NumberedOptunaSearch(
        space=dict(space),
        metric=config.metric,
        mode=config.mode,
        sampler=sampler(config, seed),
        points_to_evaluate=config.search_alg.points_to_evaluate,
    )


def _number_of(trial: Any) -> int:
    return int(trial.config[NUMBER_KEY])


def _record_of(trial: Any, state: TrialState, error: str | None = None) -> TrialRecord:
    """A trial's record from its config and last result (a pruned trial's last epoch)."""
    last = trial.last_result or {}
    marker = _marker(last)
    metrics = _metrics(last, marker)
    params = {k: v for k, v in trial.config.items() if k != NUMBER_KEY}
    return TrialRecord(_number_of(trial), params, state, metrics, int(last.get("epoch", 0)), error=error)


class _Books:
    """What the driver keeps of the trials: records, checkpoints of the complete ones, the recorder."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.records: dict[int, TrialRecord] = {}
        self.checkpoints: dict[int, Any] = {}

    def ended(self, record: TrialRecord) -> None:
        self.records[record.number] = record
        self.recorder.ended(record)


def _callback(books: _Books) -> Any:
    """A Tune callback (it runs in the driver) turning Tune's events into the recorder's."""
    from ray import tune

    class Recording(tune.Callback):
        def __init__(self, kept: _Books) -> None:
            self.books = kept  # an argument, not a closure: Tune pickles this class

        def __getstate__(self) -> dict[str, Any]:
            return {}  # Tune saves its callbacks with the experiment; the run's books stay here

        def on_trial_result(self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any],
                            **info: Any) -> None:  # fmt: skip
            marker = _marker(result)
            if marker and not marker["final"]:
                metrics = _metrics(result, marker)
                self.books.recorder.reported(_number_of(trial), int(result["epoch"]), metrics)

        def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            marker = _marker(trial.last_result)
            record = _record_of(trial, "complete" if marker.get("final") else "pruned")
            if marker.get("final") and trial.checkpoint is not None:
                self.books.checkpoints[record.number] = trial.checkpoint
            self.books.ended(record)

        def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            lines = _error_lines(trial)
            self.books.ended(_record_of(trial, "failed", lines[-1] if lines else "the trial raised"))

    return Recording(books)


@contextmanager
def _quiet_tune() -> Iterator[None]:
    """Tune's console table off (it prints it whatever ``verbose`` says): the run records the trials."""
    saved = os.environ.get(_NEW_OUTPUT)
    os.environ[_NEW_OUTPUT] = "0"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(_NEW_OUTPUT, None)
        else:
            os.environ[_NEW_OUTPUT] = saved


def search(
    config: TuneConfig,
    space: Mapping[str, BaseDistribution],
    objective: Objective,
    recorder: Recorder,
    folder: Path,
    seed: int | None = 0,
    resources: Mapping[str, float] | None = None,
) -> list[TrialRecord]:
    """Run ``num_samples`` Ray Tune trials on the connected cluster; every trial's record.

    ``resources`` per trial (default one CPU). The best complete trial's folder is copied from its
    checkpoint to ``folder/NNNN`` (its record's ``path``). A trial that raises stops the search
    (``fail_fast``) and the search raises ``RuntimeError`` naming it, after every record.
    """
    from ray import tune

    books = _Books(recorder)
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, objective=objective, metric=config.metric),
        dict(resources or {"cpu": 1}),
    )
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            metric=config.metric,
            mode=config.mode,
            search_alg=_searcher(config, space, seed),
            scheduler=scheduler(config.scheduler, config.metric, config.mode),
            num_samples=config.num_samples,
            max_concurrent_trials=config.max_concurrent_trials,
            time_budget_s=config.time_budget_s,
        ),
        run_config=tune.RunConfig(
            name="tune",
            storage_path=config.storage_path or str(folder / "ray"),
            callbacks=[_callback(books)],
            failure_config=tune.FailureConfig(fail_fast=True),
            verbose=0,
        ),
    )
    with _quiet_tune():
        grid = tuner.fit()
    ordered = [books.records[n] for n in sorted(books.records)]
    failed = [r for r in ordered if r.state == "failed"]
    if failed or grid.errors:
        first = failed[0] if failed else None
        reason = f"trial {first.number} failed: {first.error}" if first else str(grid.errors[0])
        raise RuntimeError(f"Ray Tune search stopped: {reason}")
    best = best_trial(ordered, config)
    if best is not None and best.number in books.checkpoints:
        best.path = folder / f"{best.number:04d}"
        books.checkpoints[best.number].to_directory(str(best.path))
    return ordered
