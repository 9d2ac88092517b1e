"""Tests of the ``to_task`` action, on the sample project over the sample photos.

They run ``to_task`` alone (``meta_filter: {}`` selects every photo), so they pass in a plugin
generated without ``pre_annotation`` too.
"""

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.testing import embedded_backend

EVERY_PHOTO = {"meta_filter": {}}


def tasks(home, project):
    """The tasks of a project in the test's platform."""
    with embedded_backend(home):
        return list(get_backend_client().list_tasks({"project": project}, list_all=True)[0])


def test_every_photo_becomes_a_task_once(synapse_run, tmp_path):
    first = synapse_run("to_task", EVERY_PHOTO)
    again = synapse_run("to_task", EVERY_PHOTO)

    assert first.succeeded
    assert (first.result["selected"], first.result["tasks_created"]) == (8, 8)
    assert (again.result["tasks_created"], again.result["tasks_existing"]) == (0, 8)
    made = tasks(tmp_path / "synapse-home", first.result["project"])
    assert {tuple(task["tags"]) for task in made} == {("to-annotate",)}


def test_predictions_become_pre_annotations(synapse_run, tmp_path):
    run = synapse_run("to_task", {**EVERY_PHOTO, "predictions_path": "sample_data/predictions.jsonl"})

    assert run.result["predictions"]["matched"] == 2
    made = tasks(tmp_path / "synapse-home", run.result["project"])
    predicted = [task["predictions"][0] for task in made if task["predictions"]]
    scores = sorted(score for p in predicted for score in p["scores"].values())
    assert scores == [0.81, 0.92]


def test_by_default_only_units_pre_annotation_kept_are_selected(synapse_run):
    run = synapse_run("to_task")

    assert run.succeeded
    assert run.result["tasks_created"] == 0  # no pre_annotation run has marked any unit yet
