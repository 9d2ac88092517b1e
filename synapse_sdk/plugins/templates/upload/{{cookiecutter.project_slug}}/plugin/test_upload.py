"""Tests of the ``upload`` action, using the sample files in sample_data/files."""

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


def test_upload_copies_files_once_by_content_into_the_run_folder(synapse_run):
    run = synapse_run("upload")

    assert run.succeeded
    destination = run.folder / "uploads"
    assert run.result["destination"] == str(destination)
    # nested/a-copy.txt has the same content as a.txt, so it is skipped.
    assert (run.result["uploaded"], run.result["skipped"]) == (3, 1)
    manifest = json.loads((destination / "manifest.json").read_text())
    for relative, entry in manifest.items():
        assert hashlib.sha256((destination / relative).read_bytes()).hexdigest() == entry["sha256"]
    assert run.progress["upload"]["percent"] == 100
    assert run.metrics["upload"]["uploaded"] == 3


def test_upload_again_to_the_same_destination_copies_nothing(synapse_run, tmp_path):
    synapse_run("upload", {"destination": str(tmp_path)})
    again = synapse_run("upload", {"destination": str(tmp_path)})

    assert (again.result["uploaded"], again.result["skipped"]) == (0, 4)


def test_upload_filters_by_extension(synapse_run):
    run = synapse_run("upload", {"extensions": [".csv"]})

    assert run.result["uploaded"] == 1
    assert (run.folder / "uploads" / "b.csv").is_file()


def test_relative_paths_are_relative_to_the_current_folder(synapse_run, tmp_path, monkeypatch):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "x.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    run = synapse_run("upload", {"source_path": "mine", "destination": "copied"})

    assert run.result["destination"] == str((tmp_path / "copied").resolve())
    assert (tmp_path / "copied" / "x.txt").read_text() == "x"


def test_upload_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("upload")

    assert plugin_files() == before
