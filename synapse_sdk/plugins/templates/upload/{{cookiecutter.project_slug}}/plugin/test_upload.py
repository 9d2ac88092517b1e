"""Tests of the ``upload`` action, using the sample files in sample_data/files."""

import hashlib
import json


def test_upload_copies_files_once_by_content(synapse_run, tmp_path):
    run = synapse_run("upload", {"destination": str(tmp_path)})

    assert run.succeeded
    # nested/a-copy.txt has the same content as a.txt, so it is skipped.
    assert (run.result["uploaded"], run.result["skipped"]) == (3, 1)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    for relative, entry in manifest.items():
        assert hashlib.sha256((tmp_path / relative).read_bytes()).hexdigest() == entry["sha256"]
    assert run.progress["upload"]["percent"] == 100
    assert run.metrics["upload"]["uploaded"] == 3


def test_upload_again_copies_nothing(synapse_run, tmp_path):
    synapse_run("upload", {"destination": str(tmp_path)})
    again = synapse_run("upload", {"destination": str(tmp_path)})

    assert (again.result["uploaded"], again.result["skipped"]) == (0, 4)


def test_upload_filters_by_extension(synapse_run, tmp_path):
    run = synapse_run("upload", {"destination": str(tmp_path), "extensions": [".csv"]})

    assert run.result["uploaded"] == 1
    assert (tmp_path / "b.csv").is_file()
