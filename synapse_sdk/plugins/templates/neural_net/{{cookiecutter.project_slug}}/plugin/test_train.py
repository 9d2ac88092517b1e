"""Tests of the ``train`` action on a tiny digits dataset, against a temporary platform (``synapse_run``)."""

from pathlib import Path

import pytest
from synapse_sdk.errors import ParamsError

PLUGIN_DIR = Path(__file__).resolve().parents[1]


def test_train_reports_each_epoch_and_registers_the_model(synapse_run, synapse_client, digits):
    run = synapse_run("train", {"dataset": "digits", "epochs": 3, "batch_size": 16})

    assert run.status == "SUCCEEDED"
    assert run.progress["train"]["percent"] == 100
    assert run.progress["batch"]["percent"] == 100
    assert run.metric_values("train", "epoch") == [1, 2, 3]
    assert len(run.metric_values("train", "val_accuracy")) == 3
    rates = run.metric_values("train", "learning_rate")
    assert rates[0] == 3e-3
    assert rates[-1] < rates[0]  # the cosine schedule
    assert [c["epoch"] for c in run.events("checkpoint")] == [1, 2, 3]
    assert sorted(p.name for p in (run.folder / "checkpoints").iterdir()) == [
        "epoch-0001.pt", "epoch-0002.pt", "epoch-0003.pt",
    ]  # fmt: skip
    model = synapse_client.get_model(run.result["model"])
    assert model["run"] == run.id
    assert model["plugin"].endswith("@0.1.0")
    assert model["configuration"]["dataset"]["version"] == digits.ground_truth_version
    assert model["configuration"]["hyperparameters"] == {"channels": 32, "hidden": 128, "dropout": 0.25}
    assert model["metrics"]["accuracy"] == run.result["accuracy"]
    assert run.result["classes"] == [str(d) for d in range(10)]


def test_a_model_can_start_from_a_registered_one(synapse_run, trained):
    # A step too small to change anything: the new model is the registered one, registered anew.
    params = {"dataset": "digits", "epochs": 1, "learning_rate": 1e-12, "checkpoint": trained.result["model"]}
    run = synapse_run("train", params)

    assert run.succeeded
    assert run.result["model"] != trained.result["model"]
    assert run.result["val_accuracy"] == trained.result["val_accuracy"]
    assert run.result["val_loss"] == pytest.approx(trained.result["val_loss"], rel=1e-6)


def test_train_rejects_bad_params(synapse_run):
    with pytest.raises(ParamsError, match="epochs"):
        synapse_run("train", {"epochs": 0})
    with pytest.raises(ParamsError, match="hyperparameters.width"):
        synapse_run("train", {"hyperparameters": {"width": 3}})


def test_an_unknown_dataset_fails_the_run_naming_it(synapse_run, digits):
    run = synapse_run("train", {"dataset": "cats"}, check=False)

    assert run.status == "FAILED"
    assert "no ground-truth dataset 'cats'" in run.error
