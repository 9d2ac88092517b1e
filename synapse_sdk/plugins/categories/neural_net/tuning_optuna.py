"""The ``tune`` action's search on this machine: an Optuna study, one trial after the other.

The study lives in a journal file in the search's folder (the run folder), so a retried attempt
of the same run (``retry`` in config.yaml) goes on with the trials that are left: what the earlier
attempt finished counts, a trial it left running is recorded failed, and the best trial is
picked among all of them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.plugins.categories.neural_net.tuning import (
    Objective,
    Recorder,
    Scheduler,
    Trial,
    TrialPruned,
    TrialRecord,
    TrialState,
    TuneConfig,
    final_metrics,
)

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

logger = logging.getLogger(__name__)

#: The study's journal in the search folder; its study name.
JOURNAL_FILE = "study.journal"
STUDY_NAME = "tune"
#: Why a trial that an earlier attempt left running is failed.
INTERRUPTED = "interrupted: the attempt running it ended first"


def sampler(config: TuneConfig, seed: int | None) -> Any:
    """The Optuna sampler ``search_alg`` names, seeded with ``seed`` (None: a random seed)."""
    import optuna

    if config.search_alg.name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def pruner(scheduler: Scheduler) -> Any:
    """The Optuna pruner of ``scheduler``: median, successive halving (asha) or none (fifo)."""
    import optuna

    if scheduler.name == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=scheduler.min_samples, n_warmup_steps=scheduler.grace_period
        )
    if scheduler.name == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=scheduler.grace_period, reduction_factor=scheduler.reduction_factor
        )
    return optuna.pruners.NopPruner()


class _OptunaTrial(Trial):
    """A trial of an Optuna study: each report goes to the recorder and to the pruner."""

    def __init__(self, study_trial: Any, path: Path, metric: str, recorder: Recorder) -> None:
        super().__init__(study_trial.number, study_trial.params, path, metric)
        self._trial = study_trial
        self._recorder = recorder

    def report(self, metrics: Mapping[str, float], epoch: int) -> None:
        super().report(metrics, epoch)
        self._recorder.reported(self.number, epoch, self.last)
        value = self.last[self.metric]
        if math.isfinite(value):
            self._trial.report(value, epoch)
        if self._trial.should_prune():
            raise TrialPruned(f"trial {self.number} pruned after epoch {epoch}")


def open_study(config: TuneConfig, folder: Path, seed: int | None) -> Any:
    """The search's study, new or as an earlier attempt left it in ``folder``."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # each trial is recorded in the run instead
    folder.mkdir(parents=True, exist_ok=True)
    return optuna.create_study(
        storage=JournalStorage(JournalFileBackend(str(folder / JOURNAL_FILE))),
        study_name=STUDY_NAME,
        load_if_exists=True,
        direction="maximize" if config.mode == "max" else "minimize",
        sampler=sampler(config, seed),
        pruner=pruner(config.scheduler),
    )


def _earlier(study: Any, folder: Path, recorder: Recorder) -> list[TrialRecord]:
    """The trials of earlier attempts, as records (the recorder is told); one left running is failed now."""
    from optuna.trial import TrialState as State

    states: dict[Any, TrialState] = {State.COMPLETE: "complete", State.PRUNED: "pruned", State.FAIL: "failed"}
    records, interrupted = [], []
    for frozen in study.get_trials(deepcopy=False):
        if frozen.state == State.WAITING:
            continue  # an enqueued point not tried yet: asked for again below
        attrs = frozen.user_attrs
        record = TrialRecord(
            frozen.number,
            dict(frozen.params),
            states.get(frozen.state, "failed"),
            dict(attrs.get("metrics", {})),
            int(attrs.get("epochs", 0)),
            folder / f"{frozen.number:04d}",
            attrs.get("error"),
        )
        if frozen.state == State.RUNNING:
            study.tell(frozen.number, state=State.FAIL)
            record.error = INTERRUPTED
            interrupted.append(record)
        records.append(record)
    if records:
        recorder.resumed([r for r in records if r not in interrupted])
    for record in interrupted:
        recorder.ended(record)
    return records


def search(
    config: TuneConfig,
    space: Mapping[str, BaseDistribution],
    objective: Objective,
    recorder: Recorder,
    folder: Path,
    seed: int | None = 0,
) -> list[TrialRecord]:
    """Run the trials left of ``num_samples`` one after the other; every trial's record, earlier ones too.

    Trial ``n`` gets the folder ``folder/NNNN``. A trial that raises fails the search (after its
    record): a bug does not get ``num_samples`` chances. A trial whose metric is not finite (a
    diverged training) is recorded failed and the search goes on.
    """
    from optuna.trial import TrialState as State

    study = open_study(config, folder, seed)
    records = _earlier(study, folder, recorder)
    if not study.get_trials(deepcopy=False):
        for point in config.search_alg.points_to_evaluate or []:
            study.enqueue_trial(point)
    started = time.monotonic()
    while len(records) < config.num_samples:
        if config.time_budget_s is not None and time.monotonic() - started >= config.time_budget_s:
            logger.info("time budget of %gs spent after %d trials", config.time_budget_s, len(records))
            break
        study_trial = study.ask(dict(space))
        trial = _OptunaTrial(study_trial, folder / f"{study_trial.number:04d}", config.metric, recorder)
        trial.path.mkdir(parents=True, exist_ok=True)
        record = TrialRecord(trial.number, trial.params, "complete", path=trial.path)
        try:
            returned = objective(trial)
        except TrialPruned:
            record.state, record.metrics = "pruned", dict(trial.last)
        except Exception as exc:
            record.state, record.metrics = "failed", dict(trial.last)
            record.error = f"{type(exc).__name__}: {exc}"
            _tell(study, study_trial, record, trial.epochs, State.FAIL)
            recorder.ended(record)
            raise
        else:
            record.metrics = final_metrics(trial, returned)
            if not math.isfinite(record.metrics[config.metric]):
                record.state, record.error = "failed", f"{config.metric} is {record.metrics[config.metric]}"
        state = {"complete": State.COMPLETE, "pruned": State.PRUNED, "failed": State.FAIL}[record.state]
        _tell(study, study_trial, record, trial.epochs, state, config.metric)
        records.append(record)
        recorder.ended(record)
    return records


def _tell(
    study: Any, study_trial: Any, record: TrialRecord, epochs: int, state: Any, metric: str = ""
) -> None:
    """Store how the trial ended in the study, with what a later attempt needs to record it again."""
    from optuna.trial import TrialState as State

    record.epochs = epochs
    finite = {k: v for k, v in record.metrics.items() if math.isfinite(v)}
    study_trial.set_user_attr("metrics", finite)
    study_trial.set_user_attr("epochs", epochs)
    if record.error:
        study_trial.set_user_attr("error", record.error)
    if state == State.COMPLETE:
        study.tell(study_trial, record.metrics[metric])
    else:
        study.tell(study_trial, state=state)
