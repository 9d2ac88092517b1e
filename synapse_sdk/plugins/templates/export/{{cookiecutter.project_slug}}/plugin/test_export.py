"""Tests of the ``export`` action, using the sample items in sample_data/."""

import json
import shutil
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parents[1]


def plugin_files():
    """Every file in the plugin folder (but Python's caches), with its modification time."""
    return {
        path: path.stat().st_mtime_ns
        for path in PLUGIN_DIR.rglob("*")
        if path.is_file() and not {"__pycache__", ".pytest_cache"} & set(path.parts)
    }


def test_export_writes_coco_files_and_originals_into_the_run_folder(synapse_run):
    run = synapse_run("export")

    assert run.succeeded
    out = run.folder / "exports" / "sample_export"
    assert run.result["export_path"] == str(out)
    assert (run.result["success"], run.result["skipped"], run.result["failed"]) == (3, 1, 0)
    coco = json.loads((out / "json" / "street_001.json").read_text())
    assert coco["annotation_count"] == len(coco["annotations"]) == 2
    assert {c["name"] for c in coco["categories"]} == {"car", "person"}
    assert sorted(p.name for p in (out / "origin_files").iterdir()) == [
        "park_003.png",
        "street_001.png",
        "street_002.png",
    ]
    assert run.progress["dataset_conversion"]["percent"] == 100
    assert [e["status"] for e in run.events("export_file")] == ["success"] * 3
    assert run.metrics["labels"]["car"] == 3


def test_a_second_export_to_a_storage_gets_a_new_folder(synapse_run, tmp_path):
    params = {"name": "demo", "storage": str(tmp_path), "save_original_file": False}
    first = synapse_run("export", params)
    second = synapse_run("export", params)

    assert first.result["export_path"] == str((tmp_path / "exports" / "demo").resolve())
    assert second.result["export_path"] == first.result["export_path"] + "(1)"


def test_relative_paths_are_relative_to_the_current_folder(synapse_run, tmp_path, monkeypatch):
    shutil.copytree(PLUGIN_DIR / "sample_data", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    run = synapse_run("export", {"filter": {"source": "data/ground_truth.json"}, "storage": "out"})

    assert run.result["export_path"] == str((tmp_path / "out" / "exports" / "sample_export").resolve())
    assert run.result["success"] == 3


def test_export_refuses_paths_outside_the_storage(synapse_run):
    run = synapse_run("export", {"path": "../../etc"}, check=False)

    assert run.status == "FAILED"
    assert "leaves the storage root" in run.error


def test_export_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("export")

    assert plugin_files() == before
