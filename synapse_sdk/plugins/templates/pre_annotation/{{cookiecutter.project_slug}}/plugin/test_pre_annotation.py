"""Tests of the ``pre_annotation`` action, using the sample files in sample_data/raw."""

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


def test_pre_annotation_drops_duplicates_and_other_types(synapse_run):
    run = synapse_run("pre_annotation")

    assert run.succeeded
    output = run.folder / "data_units.json"
    assert run.result["output_path"] == str(output)
    manifest = json.loads(output.read_text())
    assert [u["file"] for u in manifest["data_units"]] == [
        "batch_2/frame_001_copy.txt",
        "batch_2/frame_004.txt",
        "frame_002.txt",
        "frame_003.txt",
    ]
    assert manifest["duplicates"] == [{"file": "frame_001.txt", "same_as": "batch_2/frame_001_copy.txt"}]
    assert manifest["ignored"] == ["README.md"]
    assert run.metrics["preprocessing"] == {"data_units": 4, "duplicates": 1, "ignored": 1}
    assert any("duplicate" in m for m in run.messages)


def test_relative_paths_are_relative_to_the_current_folder(synapse_run, tmp_path, monkeypatch):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "only.txt").write_text("mine")
    monkeypatch.chdir(tmp_path)
    run = synapse_run("pre_annotation", {"source_path": "raw", "output_path": "units.json"})

    assert run.result["output_path"] == str((tmp_path / "units.json").resolve())
    manifest = json.loads((tmp_path / "units.json").read_text())
    assert [u["file"] for u in manifest["data_units"]] == ["only.txt"]


def test_pre_annotation_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("pre_annotation")

    assert plugin_files() == before
