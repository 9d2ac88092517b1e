"""Tests of the ``validation`` action, on the sample project it imports from sample_data/."""

import json
from pathlib import Path

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.testing import embedded_backend

PLUGIN_DIR = Path(__file__).resolve().parents[1]


def plugin_files():
    """Every file in the plugin folder (but Python's caches), with its modification time."""
    return {
        path: path.stat().st_mtime_ns
        for path in PLUGIN_DIR.rglob("*")
        if path.is_file() and not {"__pycache__", ".pytest_cache"} & set(path.parts)
    }


def plant(home, project, name, boxes):
    """Give the task of image ``name`` these boxes (in the test's platform)."""
    with embedded_backend(home):
        client = get_backend_client()
        for task in client.list_tasks({"project": project}, list_all=True)[0]:
            unit = client.get_data_unit(task["data_unit"])
            if client.get_data_file(unit["files"]["image"]["data_file"])["name"] == name:
                client.annotate_task_data(task["id"], {"images": [{"bounding_box": boxes}]})


def test_the_sample_project_passes(synapse_run):
    run = synapse_run("validation", {"min_class_objects": 1})

    assert run.succeeded
    assert (run.result["passed"], run.result["errors"], run.result["warnings"]) == (True, 0, 0)
    assert run.result["items"] == 5
    assert json.loads(Path(run.result["report"]).read_text())["problems"] == []


def test_a_box_outside_its_image_fails_the_run_and_names_the_fix(synapse_run, tmp_path):
    project = synapse_run("validation", {"min_class_objects": 1}).result["project"]
    box = {"id": "b1", "classification": "cup", "attrs": [], "data": [100, 10, 40, 40]}
    plant(tmp_path / "synapse-home", project, "coffee.jpg", [box])

    run = synapse_run("validation", {"project": project, "min_class_objects": 1}, check=False)

    assert run.status == "FAILED"
    assert "found 1 error(s)" in run.error
    report = json.loads((run.folder / "validation_report.json").read_text())
    [problem] = [p for p in report["problems"] if p["severity"] == "error"]
    assert (problem["check"], problem["severity"], problem["file"]) == ("boxes", "error", "coffee.jpg")
    assert problem["fix"] == "clip it to [100, 10, 20, 40]"  # coffee.jpg is 120 px wide


def test_fail_on_never_only_reports(synapse_run, tmp_path):
    project = synapse_run("validation", {"min_class_objects": 1}).result["project"]
    box = {"id": "b1", "classification": "teapot", "attrs": [], "data": [10, 10, 20, 20]}
    plant(tmp_path / "synapse-home", project, "coffee.jpg", [box])

    run = synapse_run("validation", {"project": project, "fail_on": "never", "min_class_objects": 1})

    assert run.succeeded and run.result["passed"] is False
    assert run.result["by_check"]["classes"] == {"error": 1}


def test_validation_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("validation")

    assert plugin_files() == before
