"""Tests of the ``deployment`` action."""

import hashlib
import json


def test_deployment_copies_the_model_with_a_manifest(synapse_run, tmp_path):
    run = synapse_run("deployment", {"target_dir": str(tmp_path)})

    assert run.succeeded
    folder = tmp_path / "toy-classifier" / run.result["version"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["sha256"] == hashlib.sha256((folder / "model.json").read_bytes()).hexdigest()
    assert manifest["smoke_test"]["probability"] > 0.5
    assert run.progress["deployment"]["current"] == 3
    assert run.metrics["performance"]["model_bytes"] > 0


def test_deployment_refuses_a_broken_model(synapse_run, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    run = synapse_run("deployment", {"model_path": str(broken), "target_dir": str(tmp_path)}, check=False)

    assert run.status == "FAILED"
    assert "not a model file" in run.error
    assert not (tmp_path / "toy-classifier").exists()
