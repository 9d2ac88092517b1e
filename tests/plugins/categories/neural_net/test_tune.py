"""The tune base action with Optuna: each trial in the run, pruning, seeds, the best model registered.

The plugin (``toy_tune.py``) tunes a toy "training" whose accuracy is a formula of the learning
rate, so which trial wins and which one is pruned is known in advance.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.errors import ParamsError
from synapse_sdk.plugins.testing import run_action
from tests.conftest import run_cli
from tests.execution.ray.helpers import wait_for_end
from tests.plugins.categories.neural_net.toy_tune import CONFIG, KILLED_ONCE, RETRIED, SPACE, TUNE


@pytest.fixture
def toy(make_plugin: Callable[..., Path]) -> Path:
    return make_plugin(CONFIG, {"tune.py": TUNE}, name="toy-tune")


def tune(plugin: Path, home: Path, check: bool = True, **params: Any):  # type: ignore[no-untyped-def]
    params = {"dataset": "toy", "epochs": 3, "hyperparameter": SPACE, **params}
    return run_action(plugin, "tune", params, home=home, check=check)


def test_every_trial_is_recorded_and_the_best_ones_model_registered(toy: Path, synapse_home: Path) -> None:
    run = tune(toy, synapse_home, tune_config={"num_samples": 4, "scheduler": {"name": "fifo"}})

    assert run.succeeded
    trials = run.events("trial")
    assert [t["number"] for t in trials] == [0, 1, 2, 3]
    assert {t["state"] for t in trials} == {"complete"}
    assert len(run.metric_values("trials", "val_accuracy")) == 4 * 3  # one row per trial and epoch
    best = max(trials, key=lambda t: t["metrics"]["val_accuracy"])
    assert run.result["best_trial"]["number"] == best["number"]
    assert run.result["best_params"] == best["params"]
    assert run.result["trials"] == {"complete": 4, "pruned": 0, "failed": 0}
    assert run.progress["trials"]["current"] == 4
    model = get_backend_client().get_model(run.result["model"])
    assert model["run"] == run.id
    assert model["configuration"]["tuned"] == {
        "trial": best["number"],
        "params": best["params"],
        "backend": "optuna",
    }
    assert model["metrics"]["val_accuracy"] == best["metrics"]["val_accuracy"]
    assert model["configuration"]["learning_rate"] == best["params"]["learning_rate"]  # searched: its value
    assert Path(run.result["model_path"]) == run.folder / "trials" / f"{best['number']:04d}" / "model.pt"


def test_a_trial_worse_than_the_median_is_pruned(toy: Path, synapse_home: Path) -> None:
    first = [{"learning_rate": 0.5}, {"learning_rate": 0.02}]  # the second is far behind at epoch 1
    config = {"num_samples": 2, "search_alg": {"points_to_evaluate": first},
              "scheduler": {"name": "median", "grace_period": 1, "min_samples": 1}}  # fmt: skip
    run = tune(toy, synapse_home, epochs=5, tune_config=config)

    assert run.succeeded
    complete, pruned = run.events("trial")
    assert (complete["state"], complete["epochs"]) == ("complete", 5)
    assert pruned["state"] == "pruned"
    assert pruned["params"] == {"learning_rate": 0.02}
    assert pruned["epochs"] < 5
    rows = [r["values"] for r in run.metric_history if r["category"] == "trials"]
    assert sum(r["trial"] == 1 for r in rows) == pruned["epochs"]  # it trained no epoch past its pruning
    assert run.result["trials"] == {"complete": 1, "pruned": 1, "failed": 0}
    assert run.result["best_trial"]["number"] == 0


def test_one_seed_searches_the_same_params_again(toy: Path, synapse_home: Path) -> None:
    def searched(seed: int) -> list[dict[str, Any]]:
        run = tune(toy, synapse_home, seed=seed, tune_config={"num_samples": 3})
        return [t["params"] for t in run.events("trial")]

    assert searched(7) == searched(7)
    assert searched(7) != searched(8)


def test_a_trial_that_raises_fails_the_run_once_recorded(toy: Path, synapse_home: Path) -> None:
    config = {
        "num_samples": 3,
        "search_alg": {"points_to_evaluate": [{"learning_rate": 0.5}, {"learning_rate": 0.99}]},
    }
    run = tune(toy, synapse_home, check=False, hyperparameter=[{**SPACE[0], "max": 1.0}], tune_config=config)

    assert run.status == "FAILED"
    assert "diverged" in (run.error or "")
    assert [(t["number"], t["state"]) for t in run.events("trial")] == [(0, "complete"), (1, "failed")]
    assert "RuntimeError: diverged" in run.events("trial")[1]["error"]


@pytest.mark.parametrize(
    ("space", "says"),
    [
        (
            [{"name": "learning_rate", "type": "loguniform", "min": 0.01}],
            "params.hyperparameter.0: type 'loguniform' needs max",
        ),
        ([{"name": "layers", "type": "randint", "min": 3, "max": 3}], "max (3) must be above min (3)"),
        ([{"name": "width", "type": "choice"}], "type 'choice' needs options"),
        ([{"name": "x", "type": "normal", "min": 0, "max": 1}], "params.hyperparameter.0.type"),
    ],
    ids=["missing-max", "empty-range", "choice-without-options", "unknown-type"],
)
def test_a_bad_search_space_is_refused_before_anything_runs(
    toy: Path, synapse_home: Path, space: list, says: str
) -> None:
    with pytest.raises(ParamsError, match=r".*") as caught:
        tune(toy, synapse_home, hyperparameter=space)
    assert says in str(caught.value)


def test_an_unknown_search_algorithm_is_refused_naming_the_choices(toy: Path, synapse_home: Path) -> None:
    with pytest.raises(ParamsError, match="params.tune_config.search_alg.name: .*use 'tpe' or 'random'"):
        tune(toy, synapse_home, tune_config={"search_alg": {"name": "bayesopt"}})


def test_the_ray_backend_without_a_cluster_says_how_to_get_one(toy: Path) -> None:
    # A process of its own: this one may be connected to the session's Ray cluster, and would use it.
    params = {"dataset": "toy", "hyperparameter": SPACE, "backend": "ray"}
    proc = run_cli("plugin", "run", "tune", json.dumps(params), cwd=toy, env={"SYNAPSE_RAY_ADDRESS": ""})
    assert proc.returncode == 1, proc.stderr  # the action's own check, before it reads any data
    assert "--ray-address ADDRESS" in proc.stderr and "or use backend 'optuna'" in proc.stderr


@pytest.mark.slow
def test_a_killed_search_is_tried_again_and_goes_on_with_the_trials_left(
    make_plugin: Callable[..., Path], store
) -> None:
    plugin = make_plugin(RETRIED, {"tune.py": KILLED_ONCE}, name="toy-tune")
    params = {
        "dataset": "toy",
        "hyperparameter": SPACE,
        "tune_config": {"num_samples": 4, "scheduler": {"name": "fifo"}},
    }
    proc = run_cli("plugin", "run", "tune", json.dumps(params), "--job-id", "tune-retried", cwd=plugin)
    assert proc.returncode == 0, proc.stderr

    record = wait_for_end(store, "tune-retried", timeout=60)
    assert record.status.value == "SUCCEEDED", record.error
    assert [a.outcome for a in record.attempts] == ["crashed", "succeeded"]
    logs = store.get_logs("tune-retried")
    # The second attempt goes on from the study in the run folder: trials 0 and 1 ended in the first,
    # trial 2 was running when its worker died (failed now), trial 3 is the budget left.
    (resumed,) = [e.data for e in logs if e.event == "resumed"]
    assert [(t["number"], t["state"]) for t in resumed["trials"]] == [(0, "complete"), (1, "complete")]
    second = [e.data for e in logs if e.event == "trial"][-2:]
    assert [(t["number"], t["state"]) for t in second] == [(2, "failed"), (3, "complete")]
    assert second[0]["error"].startswith("interrupted")
    assert record.result["trials"] == {"complete": 3, "pruned": 0, "failed": 1}
    assert record.progress["trials"]["current"] == 4
