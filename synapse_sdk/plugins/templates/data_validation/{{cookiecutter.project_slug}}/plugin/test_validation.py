"""Tests of the ``validation`` action, using sample_data/dataset.json (which has known problems)."""

import json
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parents[1]
CLEAN = [{"id": 1, "width": 10, "height": 10, "annotations": []}]


def plugin_files():
    """Every file in the plugin folder (but Python's caches), with its modification time."""
    return {
        path: path.stat().st_mtime_ns
        for path in PLUGIN_DIR.rglob("*")
        if path.is_file() and not {"__pycache__", ".pytest_cache"} & set(path.parts)
    }


def test_validation_reports_every_problem(synapse_run):
    run = synapse_run("validation")

    assert run.succeeded
    assert run.result["passed"] is False
    problems = {(e["record"], e["problem"]) for e in run.result["errors"]}
    assert ("img-3", "annotation 1: unknown label 'truck'") in problems
    assert ("img-4", "annotation 1: box [600, 10, 100, 50] outside the 640x480 image") in problems
    assert ("img-2", "duplicate id 'img-2'") in problems
    assert (6, "missing id, width, height") in problems
    assert run.metrics["validation"] == {"checked": 6, "invalid": 4, "errors": 4}


def test_clean_data_passes(synapse_run, tmp_path):
    dataset = tmp_path / "clean.json"
    dataset.write_text(json.dumps(CLEAN))
    run = synapse_run("validation", {"dataset_path": str(dataset)})

    assert run.result == {"passed": True, "checked": 1, "invalid": 0, "errors": []}


def test_relative_paths_are_relative_to_the_current_folder(synapse_run, tmp_path, monkeypatch):
    (tmp_path / "clean.json").write_text(json.dumps(CLEAN))
    monkeypatch.chdir(tmp_path)
    run = synapse_run("validation", {"dataset_path": "clean.json"})

    assert run.result["checked"] == 1


def test_fail_on_error_fails_the_run(synapse_run):
    run = synapse_run("validation", {"fail_on_error": True}, check=False)

    assert run.status == "FAILED"
    assert "4 problem(s)" in run.error


def test_validation_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("validation")

    assert plugin_files() == before
