"""What a search is made of: hyperparameter shapes, search names, picking the best trial."""

from __future__ import annotations

from typing import Any

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from pydantic import ValidationError

from synapse_sdk.plugins.categories.neural_net.tuning import (
    Hyperparameter,
    SearchAlgo,
    TrialRecord,
    TuneConfig,
    best_trial,
    search_space,
)


def space(*items: dict[str, Any]) -> dict[str, Any]:
    return search_space([Hyperparameter.model_validate(item) for item in items])


def test_each_type_is_the_distribution_ray_tune_gives_it() -> None:
    got = space(
        {"name": "lr", "type": "loguniform", "min": 1e-4, "max": 0.1, "base": 10},
        {"name": "momentum", "type": "quniform", "min": 0.5, "max": 0.9, "q": 0.1},
        {"name": "layers", "type": "randint", "min": 1, "max": 4},  # 4 excluded, as tune.randint
        {"name": "width", "type": "qrandint", "min": 8, "max": 64, "q": 8},  # 64 included, as tune.qrandint
        {"name": "units", "type": "lograndint", "min": 16, "max": 257},
        {"name": "act", "type": "choice", "options": ["relu", "gelu"]},
    )

    assert got == {
        "lr": FloatDistribution(1e-4, 0.1, log=True),
        "momentum": FloatDistribution(0.5, 0.9, step=0.1),
        "layers": IntDistribution(1, 3),
        "width": IntDistribution(8, 64, step=8),
        "units": IntDistribution(16, 256, log=True),
        "act": CategoricalDistribution(["relu", "gelu"]),
    }


def test_a_name_searched_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="'lr' is given twice"):
        space(
            {"name": "lr", "type": "uniform", "min": 0, "max": 1},
            {"name": "lr", "type": "uniform", "min": 0, "max": 2},
        )


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ({"name": "n", "type": "randint", "min": 1.5, "max": 4}, "needs whole numbers"),
        ({"name": "lr", "type": "loguniform", "min": 0, "max": 1}, "needs min > 0"),
        (
            {"name": "m", "type": "quniform", "min": 0, "max": 1},
            "needs q, like {'name': 'm', 'type': 'quniform', 'min': 0.0",
        ),
        ({"name": "a", "type": "choice", "options": []}, "at least 1 item"),
        ({"name": "a", "type": "choice", "options": ["x"], "low": 1}, "Extra inputs are not permitted"),
    ],
    ids=["fractional-int", "log-of-zero", "missing-q", "no-options", "unknown-key"],
)
def test_a_bad_hyperparameter_says_what_to_write(item: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=".*") as caught:
        Hyperparameter.model_validate(item)
    assert says in str(caught.value)


def test_the_reference_platforms_search_names_are_accepted() -> None:
    assert SearchAlgo.model_validate({"name": "OptunaSearch"}).name == "tpe"
    assert SearchAlgo.model_validate({"name": "BasicVariantGenerator"}).name == "random"


def test_the_best_trial_is_the_best_complete_one_in_the_configs_mode() -> None:
    records = [
        TrialRecord(0, {}, "complete", {"loss": 0.5}),
        TrialRecord(1, {}, "pruned", {"loss": 0.1}),
        TrialRecord(2, {}, "complete", {"loss": 0.3}),
        TrialRecord(3, {}, "complete", {"loss": 0.3}),
        TrialRecord(4, {}, "failed", {"loss": 0.0}),
    ]

    lowest = best_trial(records, TuneConfig.model_validate({"metric": "loss", "mode": "min"}))
    highest = best_trial(records, TuneConfig.model_validate({"metric": "loss", "mode": "max"}))
    assert (lowest and lowest.number, highest and highest.number) == (2, 0)  # a tie: the earlier one
    assert best_trial(records[1:2], TuneConfig.model_validate({"metric": "loss"})) is None
