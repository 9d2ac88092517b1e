"""Tests of the ``tune`` action on a tiny digits dataset, against a temporary platform (``synapse_run``)."""

import pytest
from synapse_sdk.errors import ParamsError

SEARCH = [
    {"name": "learning_rate", "type": "loguniform", "min": 1e-3, "max": 3e-2},
    {"name": "channels", "type": "choice", "options": [4, 8]},
]


def test_tune_records_each_trial_and_registers_the_best_model(synapse_run, synapse_client, digits):
    run = synapse_run(
        "tune",
        {
            "epochs": 2,
            "hyperparameter": SEARCH,
            "tune_config": {"num_samples": 3, "scheduler": {"name": "fifo"}},
        },
    )

    assert run.succeeded
    trials = run.events("trial")
    assert [t["state"] for t in trials] == ["complete"] * 3
    assert all(set(t["params"]) == {"learning_rate", "channels"} for t in trials)
    assert len(run.metric_values("trials", "val_accuracy")) == 3 * 2  # each trial, each epoch
    best = max(trials, key=lambda t: t["metrics"]["val_accuracy"])
    assert run.result["best_params"] == best["params"]
    assert run.progress["trials"]["percent"] == 100
    model = synapse_client.get_model(run.result["model"])
    assert model["run"] == run.id
    assert model["configuration"]["hyperparameters"]["channels"] == best["params"]["channels"]
    assert model["metrics"]["val_accuracy"] == best["metrics"]["val_accuracy"]


def test_the_registered_model_is_the_best_trials_and_predicts(synapse_run, synapse_client, digits):
    from PIL import Image

    from .model import load_predictor

    run = synapse_run("tune", {"epochs": 1, "hyperparameter": SEARCH[:1], "tune_config": {"num_samples": 2}})
    best = run.result["best_trial"]["number"]

    assert run.result["model_path"].endswith(f"trials/{best:04d}/model.pt")
    predictor = load_predictor(run.result["model_path"])
    assert predictor.classes == [str(d) for d in range(10)]
    assert predictor.predict([Image.new("L", (8, 8))])[0]["class"] in predictor.classes
    assert synapse_client.get_model(run.result["model"])["checksum"]


def test_tune_rejects_a_name_the_model_does_not_take(synapse_run):
    with pytest.raises(ParamsError, match="'width' is not a setting of this plugin"):
        synapse_run("tune", {"hyperparameter": [{"name": "width", "type": "randint", "min": 1, "max": 9}]})
    with pytest.raises(ParamsError, match="params.tune_config.num_samples"):
        synapse_run("tune", {"tune_config": {"num_samples": 0}})
