"""Tests of the ``auto_label`` action, on the sample project it imports from sample_data/."""

from pathlib import Path

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.testing import embedded_backend

PLUGIN_DIR = Path(__file__).resolve().parents[1]
SOURCE = "opencv:face,cat_face"


def plugin_files():
    """Every file in the plugin folder (but Python's caches), with its modification time."""
    return {
        path: path.stat().st_mtime_ns
        for path in PLUGIN_DIR.rglob("*")
        if path.is_file() and not {"__pycache__", ".pytest_cache"} & set(path.parts)
    }


def tasks_by_photo(run):
    """The sample project's tasks after ``run``, by photo file name."""
    with embedded_backend(run.folder.parents[1]):
        client = get_backend_client()
        found = {}
        for task in client.list_tasks({"project": run.result["project"]}, list_all=True)[0]:
            unit = client.get_data_unit(task["data_unit"])
            found[client.get_data_file(unit["files"]["image"]["data_file"])["name"]] = task
        return found


def labels(task):
    """The classes of the boxes of the task's prediction."""
    (prediction,) = [p for p in task["predictions"] if p["source"] == SOURCE]
    return [box["classification"] for box in prediction["data"]["images"][0]["bounding_box"]]


def test_auto_label_finds_the_face_and_the_cat_face(synapse_run):
    run = synapse_run("auto_label")

    assert run.succeeded
    tasks = tasks_by_photo(run)
    assert "face" in labels(tasks["astronaut.jpg"])
    assert "cat_face" in labels(tasks["chelsea.jpg"])
    assert labels(tasks["coffee.jpg"]) == []  # a prediction that found nothing: written, empty
    # The tasks' own annotations (empty in the sample) are untouched: the boxes are predictions.
    assert all(not image["bounding_box"] for task in tasks.values() for image in task["data"]["images"])
    assert (run.result["tasks"], run.result["tasks_failed"]) == (4, 0)
    assert run.progress["auto_label"]["percent"] == 100
    assert run.metrics["auto_label"]["boxes_written"] == run.result["boxes_written"] >= 2


def test_a_stricter_threshold_keeps_fewer_boxes(synapse_run):
    loose = synapse_run("auto_label", {"score_threshold": 0.0})
    strict = synapse_run("auto_label", {"score_threshold": 0.99})

    assert strict.result["boxes_written"] < loose.result["boxes_written"]


def test_a_label_the_project_lacks_is_refused(synapse_run):
    run = synapse_run("auto_label", {"model": {"cascades": ["face", "smile"]}}, check=False)

    assert run.status == "FAILED"
    assert "'smile' match no bounding_box class" in run.error


def test_auto_label_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("auto_label")

    assert plugin_files() == before
