"""Tests of the ``train`` action, run against a temporary backend by the ``synapse_run`` fixture."""

import json

import pytest
from synapse_sdk.errors import ParamsError


def test_train_learns_and_reports(synapse_run, tmp_path):
    output = tmp_path / "model.json"
    run = synapse_run("train", {"epochs": 30, "output_path": str(output)})

    assert run.status == "SUCCEEDED"
    assert run.progress["training"]["percent"] == 100
    losses = run.metric_values("training", "loss")
    assert len(losses) == 30
    assert losses[-1] < losses[0]
    assert run.result["accuracy"] >= 0.9
    assert json.loads(output.read_text())["weights"]
    assert run.events("model_checkpoint")[0]["checkpoint_path"] == str(output)
    assert "Training completed!" in run.messages


def test_train_rejects_bad_params(synapse_run):
    with pytest.raises(ParamsError, match="epochs"):
        synapse_run("train", {"epochs": 0})
