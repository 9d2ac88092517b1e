"""Tests of the ``auto_label`` action, using the sample items in sample_data/."""

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


def test_auto_label_labels_and_flags(synapse_run):
    run = synapse_run("auto_label")

    assert run.succeeded
    labels = {entry["id"]: entry for entry in run.result["labels"]}
    assert labels["u1"]["label"] == "cat"
    assert labels["u2"]["label"] == "dog"
    assert labels["u3"]["needs_review"] is True  # half-way between the two classes
    assert run.metrics["labelling"]["needs_review"] == 1
    assert run.progress["labelling"]["percent"] == 100


def test_a_stricter_threshold_flags_more(synapse_run, tmp_path):
    items = tmp_path / "items.json"
    items.write_text(json.dumps([{"id": "x", "features": [0.4, 0.6]}]))
    loose = synapse_run("auto_label", {"items_path": str(items), "min_confidence": 0.0})
    strict = synapse_run("auto_label", {"items_path": str(items), "min_confidence": 1.0})

    assert loose.result["labels"][0]["needs_review"] is False
    assert strict.result["labels"][0]["needs_review"] is True


def test_relative_paths_are_relative_to_the_current_folder(synapse_run, tmp_path, monkeypatch):
    (tmp_path / "items.json").write_text(json.dumps([{"id": "mine", "features": [0.1, 0.1]}]))
    monkeypatch.chdir(tmp_path)
    run = synapse_run("auto_label", {"items_path": "items.json"})

    assert [entry["id"] for entry in run.result["labels"]] == ["mine"]


def test_auto_label_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("auto_label")

    assert plugin_files() == before
