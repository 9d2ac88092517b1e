"""The ``to_task`` action: the kept data units of a collection become tasks, once, with predictions.

Every test runs the real action of a plugin folder written inline, after a real ``pre_annotation``
run, on the test's embedded platform; one runs both actions over HTTP against ``synapse backend
serve``.
"""

from __future__ import annotations

import copy
import json

import pytest

from synapse_sdk.clients.backend import BackendClient, get_backend_client
from synapse_sdk.errors import ParamsError
from synapse_sdk.plugins.testing import run_action
from tests.clients.samples import COCO
from tests.conftest import run_cli
from tests.plugins.categories.pre_annotation_platform import (
    CLEAN,
    ROTATED,
    photo_folder,
    photo_units,
    pre_plugin,
    tasks_of,
)

__all__ = ["photo_folder", "pre_plugin"]  # the fixtures, imported for the tests below

KEPT = {"pre_annotation.status": "kept"}


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    return get_backend_client()


@pytest.fixture
def prepared(client, photo_folder, pre_plugin, synapse_home):  # type: ignore[no-untyped-def]
    """The photos as data units, marked by a real pre_annotation run; (plugin, project, units by name)."""
    collection, units = photo_units(client, photo_folder)
    plugin = pre_plugin()
    run_action(plugin, "pre_annotation", {"data_collection": collection["id"]}, home=synapse_home)
    project = client.create_project({"title": "photos", "data_collection": collection["id"]})
    return plugin, project, units


def test_the_kept_units_become_tasks_once(client, prepared, synapse_home):
    plugin, project, units = prepared
    params = {"project": project["id"], "meta_filter": KEPT, "batch_size": 4}

    first = run_action(plugin, "to_task", params, home=synapse_home)
    again = run_action(plugin, "to_task", params, home=synapse_home).result

    assert (first.result["data_units"], first.result["selected"], first.result["tasks_created"]) == (10, 6, 6)
    assert (again["tasks_created"], again["tasks_existing"]) == (0, 6)
    made = {task["data_unit"] for task in tasks_of(client, project["id"])}
    assert made == {units[name]["id"] for name in (*CLEAN, ROTATED)}
    assert first.progress["tasks"]["percent"] == 100
    assert first.metrics["task"] == {"created": 6, "existing": 0, "failed": 0}


def test_the_platform_s_meta_filter_shape_and_no_filter(client, prepared, synapse_home):
    plugin, project, _ = prepared

    dropped = {"meta": {"pre_annotation": {"status": "dropped"}}}
    nested = run_action(
        plugin, "to_task", {"project": project["id"], "meta_filter": dropped}, home=synapse_home
    ).result
    everything = run_action(plugin, "to_task", {"project": project["id"]}, home=synapse_home).result

    assert nested["tasks_created"] == 4
    assert (everything["tasks_created"], everything["tasks_existing"]) == (6, 4)


def test_coco_predictions_become_the_tasks_pre_annotations(client, prepared, synapse_home, tmp_path):
    plugin, project, units = prepared
    coco = copy.deepcopy(COCO)
    for annotation in coco["annotations"]:
        annotation["score"] = 0.5 + annotation["id"] / 20
    (tmp_path / "instances.json").write_text(json.dumps(coco))
    params = {
        "project": project["id"],
        "meta_filter": KEPT,
        "predictions_path": str(tmp_path / "instances.json"),
    }

    result = run_action(plugin, "to_task", params, home=synapse_home).result

    assert result["predictions"] == {
        "source": "instances.json",
        "matched": 4,
        "added_to_existing": 0,
        "unmatched": 0,
    }
    task = next(t for t in tasks_of(client, project["id"]) if t["data_unit"] == units["astronaut.jpg"]["id"])
    (prediction,) = task["predictions"]
    assert prediction["source"] == "instances.json" and task["data"] is None  # beside, never in, its data
    face = prediction["data"]["images"][0]["bounding_box"][0]
    assert (face["classification"], face["data"]) == ("face", [177.0, 66.0, 95.0, 95.0])
    assert prediction["scores"] == {"b1": 0.55, "b2": 0.6, "b3": 0.65}


def test_jsonl_predictions_reach_existing_tasks_too(client, prepared, synapse_home, tmp_path):
    plugin, project, units = prepared
    run_action(plugin, "to_task", {"project": project["id"], "meta_filter": KEPT}, home=synapse_home)
    box = {"id": "b1", "classification": "cup", "attrs": [], "data": [172, 15, 240, 290]}
    lines = [
        {
            "data_unit": units["coffee.jpg"]["id"],
            "data": {"images": [{"bounding_box": [box]}]},
            "scores": {"b1": 0.8},
        },
        {"file_name": "rocket.jpg", "data": {"images": [{}]}},
        {"file_name": "not-in-the-collection.jpg", "data": {"images": [{}]}},
    ]
    (tmp_path / "model.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    params = {
        "project": project["id"],
        "meta_filter": KEPT,
        "predictions_path": str(tmp_path / "model.jsonl"),
    }

    result = run_action(plugin, "to_task", params, home=synapse_home).result
    again = run_action(plugin, "to_task", params, home=synapse_home).result

    assert result["predictions"] == {
        "source": "model.jsonl",
        "matched": 2,
        "added_to_existing": 2,
        "unmatched": 1,
    }
    assert again["predictions"]["added_to_existing"] == 0  # the task has this source's prediction
    by_unit = {t["data_unit"]: t for t in tasks_of(client, project["id"])}
    (coffee,) = by_unit[units["coffee.jpg"]["id"]]["predictions"]
    assert (coffee["scores"], coffee["score"]) == ({"b1": 0.8}, 0.8)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"file_name": "a.jpg", "data": {"images": []}}\nnot json\n', r"model\.jsonl:2: not valid JSON"),
        ('{"data": {"images": []}}\n', r"model\.jsonl:1: give one of data_unit .* or file_name"),
        (
            '{"file_name": "a.jpg", "data": {"images": [{"bounding_box": [{"id": "b1", "data": [1]}]}]}}\n',
            r"model\.jsonl:1: data: images\[0\]\.bounding_box\[0\]",
        ),
        (
            '{"file_name": "a.jpg", "data": {"images": [{}]}, "scores": {"b9": 0.5}}\n',
            r"model\.jsonl:1: scores\.b9",
        ),
    ],
    ids=["not-json", "no-key", "bad-box", "unknown-score-id"],
)
def test_a_bad_predictions_file_names_the_line_and_field(prepared, synapse_home, tmp_path, content, message):
    plugin, project, _ = prepared
    (tmp_path / "model.jsonl").write_text(content)
    params = {"project": project["id"], "predictions_path": str(tmp_path / "model.jsonl")}

    with pytest.raises(ParamsError, match=message):
        run_action(plugin, "to_task", params, home=synapse_home)


def test_make_task_shapes_and_skips_tasks(client, prepared, pre_plugin, synapse_home):
    _, project, units = prepared
    plugin = pre_plugin(
        to_task="""
        from synapse_sdk.plugins.categories.pre_annotation import ToTaskAction


        class ToTask(ToTaskAction):
            def make_task(self, unit, prediction):
                if unit["meta"]["file_name"].endswith(".png"):
                    return None
                task = super().make_task(unit, prediction)
                task["tags"] = ["photo"]
                return task
        """,
        code="shaped",
    )

    result = run_action(
        plugin, "to_task", {"project": project["id"], "meta_filter": KEPT}, home=synapse_home
    ).result

    assert (result["tasks_created"], result["tasks_skipped"]) == (5, 1)
    assert {tuple(task["tags"]) for task in tasks_of(client, project["id"])} == {("photo",)}


@pytest.fixture
def remote(backend_server):  # type: ignore[no-untyped-def]
    """A client of the test's ``synapse backend serve``, closed at the end."""
    client = BackendClient(backend_server.url, access_token=backend_server.token)
    yield client
    client.backend.close()


def test_both_actions_over_http_and_a_bad_file_exits_2(
    pre_plugin, photo_folder, backend_server, remote, tmp_path
):
    collection, _ = photo_units(remote, photo_folder)
    project = remote.create_project({"title": "remote", "data_collection": collection["id"]})
    env = {**backend_server.client_env, "SYNAPSE_HOME": str(tmp_path / "client-home")}
    plugin = pre_plugin()
    (tmp_path / "bad.jsonl").write_text('{"data_unit": "one", "data": {}}\n')

    def run(action: str, params: dict):  # type: ignore[no-untyped-def]
        return run_cli("plugin", "run", action, json.dumps(params), "--debug", cwd=plugin, env=env)

    pre = run("pre_annotation", {"data_collection": collection["id"]})
    tasks = run("to_task", {"project": project["id"], "meta_filter": KEPT})
    bad = run("to_task", {"project": project["id"], "predictions_path": str(tmp_path / "bad.jsonl")})

    assert pre.returncode == 0, pre.stderr
    assert json.loads(pre.stdout)["kept"] == 6
    assert tasks.returncode == 0, tasks.stderr
    assert json.loads(tasks.stdout)["tasks_created"] == 6 == len(tasks_of(remote, project["id"]))
    assert bad.returncode == 2 and "bad.jsonl:1: data_unit: expected a data unit id" in bad.stderr


def test_a_unit_without_meta_file_name_is_matched_by_its_data_file_s_name(
    client, prepared, synapse_home, tmp_path
):
    plugin, project, units = prepared
    astronaut = units["astronaut.jpg"]["id"]
    client.backend.resource("data_units").update(astronaut, {"meta": {}})
    (tmp_path / "instances.json").write_text(json.dumps(COCO))
    params = {"project": project["id"], "predictions_path": str(tmp_path / "instances.json")}

    run_action(plugin, "to_task", params, home=synapse_home)

    task = next(t for t in tasks_of(client, project["id"]) if t["data_unit"] == astronaut)
    assert task["predictions"][0]["data"]["images"][0]["bounding_box"][0]["classification"] == "face"
