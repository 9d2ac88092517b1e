"""The Optuna search on its own: diverged and raising trials, and a search an earlier attempt left."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from synapse_sdk.plugins.categories.neural_net.tuning import (
    Hyperparameter,
    Trial,
    TrialRecord,
    TuneConfig,
    search_space,
)
from synapse_sdk.plugins.categories.neural_net.tuning_optuna import INTERRUPTED, open_study, search

X = search_space([Hyperparameter(name="x", type="uniform", min=0, max=1)])


class Recorder:
    """A recorder that keeps what it is told."""

    def __init__(self) -> None:
        self.reports: list[tuple[int, int, dict[str, float]]] = []
        self.records: list[TrialRecord] = []

    def reported(self, number: int, epoch: int, metrics: Any) -> None:
        self.reports.append((number, epoch, dict(metrics)))

    def ended(self, record: TrialRecord) -> None:
        self.records.append(record)

    def resumed(self, records: list[TrialRecord]) -> None:
        self.earlier = [r.number for r in records]


def test_a_diverged_trial_is_failed_and_the_search_goes_on(tmp_path: Path) -> None:
    def objective(trial: Trial) -> dict[str, float]:
        value = math.nan if trial.number == 1 else trial.params["x"]
        trial.report({"score": value}, 1)
        return {"score": value}

    config = TuneConfig.model_validate({"metric": "score", "num_samples": 3, "scheduler": {"name": "fifo"}})
    book = Recorder()
    records = search(config, X, objective, book, tmp_path)

    assert [r.state for r in records] == ["complete", "failed", "complete"]
    assert records[1].error == "score is nan"
    assert records[1].summary()["metrics"] == {}  # a NaN is not recorded
    assert [r.number for r in book.records] == [0, 1, 2]
    assert [(n, e) for n, e, _ in book.reports] == [(0, 1), (1, 1), (2, 1)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0000", "0001", "0002", "study.journal"]


def test_a_report_without_the_objective_metric_names_both(tmp_path: Path) -> None:
    def objective(trial: Trial) -> None:
        trial.report({"acc": 0.5}, 1)

    config = TuneConfig.model_validate({"num_samples": 1})
    with pytest.raises(ValueError, match=r"reported \['acc'\] without 'val_accuracy'"):
        search(config, X, objective, Recorder(), tmp_path)


def test_a_retried_attempt_goes_on_with_the_trials_left(tmp_path: Path) -> None:
    config = TuneConfig.model_validate({"metric": "score", "num_samples": 5, "scheduler": {"name": "fifo"}})

    def broken(trial: Trial) -> dict[str, float]:
        if trial.number == 2:
            raise RuntimeError("out of memory")
        trial.report({"score": trial.params["x"]}, 1)
        return {"score": trial.params["x"]}

    with pytest.raises(RuntimeError, match="out of memory"):
        search(config, X, broken, Recorder(), tmp_path)
    open_study(config, tmp_path, 0).ask()  # a trial the killed attempt had started

    book = Recorder()
    records = search(config, X, lambda trial: {"score": trial.params["x"]}, book, tmp_path)

    assert [(r.number, r.state) for r in records] == [
        (0, "complete"), (1, "complete"), (2, "failed"), (3, "failed"), (4, "complete"),
    ]  # fmt: skip
    assert book.earlier == [0, 1, 2]
    assert [(r.number, r.error) for r in book.records] == [(3, INTERRUPTED), (4, None)]
    assert records[0].metrics == {"score": records[0].params["x"]}  # what the first attempt measured
    assert records[2].error == "RuntimeError: out of memory"
