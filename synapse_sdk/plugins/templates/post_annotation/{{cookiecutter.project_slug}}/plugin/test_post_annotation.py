"""Tests of the ``post_annotation`` action, using sample_data/annotations.json."""

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


def test_post_annotation_votes_and_flags(synapse_run):
    run = synapse_run("post_annotation")

    assert run.succeeded
    output = run.folder / "reviewed.json"
    assert run.result["output_path"] == str(output)
    reviewed = {r["task"]: r for r in json.loads(output.read_text())}
    assert reviewed["t1"] == {"task": "t1", "label": "car", "agreement": 1.0, "status": "accepted"}
    assert reviewed["t2"]["label"] == "person"
    assert reviewed["t3"]["status"] == "needs_review"
    assert run.metrics["review"]["needs_review"] == run.result["needs_review"] == 2
    assert run.progress["review"]["percent"] == 100


def test_a_lower_bar_accepts_more(synapse_run):
    run = synapse_run("post_annotation", {"min_agreement": 0.3})

    assert run.result["accepted"] == 5


def test_relative_paths_are_relative_to_the_current_folder(synapse_run, tmp_path, monkeypatch):
    tasks = [{"id": "mine", "annotations": [{"label": "cat"}, {"label": "cat"}]}]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    monkeypatch.chdir(tmp_path)
    run = synapse_run("post_annotation", {"annotations_path": "tasks.json", "output_path": "out.json"})

    assert run.result["output_path"] == str((tmp_path / "out.json").resolve())
    assert json.loads((tmp_path / "out.json").read_text())[0]["task"] == "mine"


def test_post_annotation_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("post_annotation")

    assert plugin_files() == before
