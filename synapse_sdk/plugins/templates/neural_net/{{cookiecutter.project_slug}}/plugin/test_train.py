"""Tests of the ``train`` action, run against a temporary backend by the ``synapse_run`` fixture."""

import json
from pathlib import Path

import pytest
from synapse_sdk.errors import ParamsError

PLUGIN_DIR = Path(__file__).resolve().parents[1]


def plugin_files():
    """Every file in the plugin folder (but Python's caches), with its modification time."""
    return {
        path: path.stat().st_mtime_ns
        for path in PLUGIN_DIR.rglob("*")
        if path.is_file() and not {"__pycache__", ".pytest_cache"} & set(path.parts)
    }


def test_train_learns_and_saves_the_model_in_the_run_folder(synapse_run):
    run = synapse_run("train", {"epochs": 30})

    assert run.status == "SUCCEEDED"
    assert run.progress["training"]["percent"] == 100
    losses = run.metric_values("training", "loss")
    assert len(losses) == 30
    assert losses[-1] < losses[0]
    assert run.result["accuracy"] >= 0.9
    model = run.folder / "model.json"
    assert run.result["model_path"] == str(model)
    assert json.loads(model.read_text())["weights"]
    assert run.events("model_checkpoint")[0]["checkpoint_path"] == str(model)
    assert "Training completed!" in run.messages


def test_relative_paths_are_relative_to_the_current_folder(synapse_run, tmp_path, monkeypatch):
    (tmp_path / "points.csv").write_text((PLUGIN_DIR / "sample_data" / "points.csv").read_text())
    monkeypatch.chdir(tmp_path)
    run = synapse_run("train", {"dataset_path": "points.csv", "output_path": "models/model.json"})

    assert run.result["model_path"] == str((tmp_path / "models" / "model.json").resolve())
    assert json.loads((tmp_path / "models" / "model.json").read_text())["weights"]


def test_train_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("train")

    assert plugin_files() == before


def test_train_rejects_bad_params(synapse_run):
    with pytest.raises(ParamsError, match="epochs"):
        synapse_run("train", {"epochs": 0})
