"""Tests of the ``deployment`` action."""

import hashlib
import json
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parents[1]


def plugin_files():
    """Every file in the plugin folder (but Python's caches), with its modification time."""
    return {
        path: path.stat().st_mtime_ns
        for path in PLUGIN_DIR.rglob("*")
        if path.is_file() and not {"__pycache__", ".pytest_cache"} & set(path.parts)
    }


def test_deployment_copies_the_model_with_a_manifest_into_the_run_folder(synapse_run):
    run = synapse_run("deployment")

    assert run.succeeded
    folder = run.folder / "deployments" / "toy-classifier" / run.result["version"]
    assert run.result["path"] == str(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["sha256"] == hashlib.sha256((folder / "model.json").read_bytes()).hexdigest()
    assert manifest["smoke_test"]["probability"] > 0.5
    assert run.progress["deployment"]["current"] == 3
    assert run.metrics["performance"]["model_bytes"] > 0


def test_deployment_of_a_trained_model_to_a_target_dir(synapse_run, tmp_path):
    trained = tmp_path / "train-run"
    trained.mkdir()
    (trained / "model.json").write_text(json.dumps({"weights": [2.5, 1.5], "bias": -5.0}))
    run = synapse_run("deployment", {"model_path": str(trained), "target_dir": str(tmp_path / "deployments")})

    assert run.succeeded
    folder = tmp_path / "deployments" / "toy-classifier" / run.result["version"]
    assert json.loads((folder / "model.json").read_text())["bias"] == -5.0


def test_deployment_refuses_a_broken_model(synapse_run, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    run = synapse_run("deployment", {"model_path": str(broken)}, check=False)

    assert run.status == "FAILED"
    assert "not a model file" in run.error
    assert not (run.folder / "deployments").exists()


def test_deployment_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("deployment")

    assert plugin_files() == before
