"""Tests of the ``pre_annotation`` action, on the sample photos in sample_data/photos."""

import json
from pathlib import Path

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.testing import embedded_backend


def marks(home, collection):
    """File name -> the ``meta.pre_annotation`` of its data unit, in the test's platform."""
    with embedded_backend(home):
        rows, _ = get_backend_client().list_data_units({"data_collection": collection}, list_all=True)
        return {unit["meta"]["file_name"]: unit["meta"].get("pre_annotation") for unit in rows}


def test_the_planted_problems_are_dropped_and_the_photos_kept(synapse_run, tmp_path):
    run = synapse_run("pre_annotation")

    assert run.succeeded
    assert (run.result["total"], run.result["kept"], run.result["dropped"]) == (8, 6, 2)
    found = marks(tmp_path / "synapse-home", run.result["data_collection"])
    assert found["broken.jpg"]["reason"] == "unreadable"
    assert found["chelsea_copy.jpg"]["reason"] == "near_duplicate"
    assert found["coins-sideways.jpg"]["fixed"]["orientation"] == 6
    report = json.loads(Path(run.result["report_file"]).read_text())
    assert len(report["units"]) == 8


def test_check_unit_drops_small_photos(synapse_run):
    run = synapse_run("pre_annotation", {"min_side": 70})

    # camera (64 px), chelsea (60 px high) and its copy (no longer a near duplicate of a kept photo)
    assert run.result["reasons"]["too_small"] == 3


def test_running_again_decides_the_same(synapse_run):
    first = synapse_run("pre_annotation").result
    again = synapse_run("pre_annotation").result

    assert (again["kept"], again["reasons"]) == (first["kept"], first["reasons"])
