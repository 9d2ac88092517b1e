"""Tests of the ``test`` action."""

import json


def test_test_measures_the_sample_model(synapse_run):
    run = synapse_run("test")

    assert run.succeeded
    assert run.metrics["validation"]["accuracy"] == run.result["accuracy"]
    assert run.result["accuracy"] >= 0.9


def test_test_fails_clearly_without_a_model(synapse_run, tmp_path):
    run = synapse_run("test", {"model_path": str(tmp_path / "missing.json")}, check=False)

    assert run.status == "FAILED"
    assert "no model here" in run.error


def test_a_bad_model_scores_worse(synapse_run, tmp_path):
    flipped = tmp_path / "flipped.json"
    flipped.write_text(json.dumps({"weights": [-2.0, -1.5], "bias": 4.7}))
    run = synapse_run("test", {"model_path": str(flipped)})

    assert run.result["accuracy"] < 0.5


def test_test_reads_the_model_in_a_train_runs_folder(synapse_run, tmp_path):
    (tmp_path / "model.json").write_text(json.dumps({"weights": [-2.0, -1.5], "bias": 4.7}))
    run = synapse_run("test", {"model_path": str(tmp_path)})

    assert run.result["accuracy"] < 0.5
