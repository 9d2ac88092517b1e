"""validation: every problem planted in a project or a ground-truth version is found; clean data passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synapse_sdk.clients.backend import BackendClient, get_backend_client
from synapse_sdk.errors import ExecutionError, ParamsError
from synapse_sdk.plugins.categories.data_validation import ValidationAction
from synapse_sdk.plugins.testing import run_action
from tests.conftest import run_cli
from tests.plugins.categories.annotation_platform import (
    PLUGIN_CONFIG,
    Project,
    add_unit,
    annotation,
    box,
    build_project,
    png,
)

PLAIN = """
from synapse_sdk.plugins.categories.data_validation import ValidationAction


class Action(ValidationAction):
    pass
"""
COLOURS = {
    name: (n * 20, 100, 200 - n * 20)
    for n, name in enumerate(
        ["clean", "missing", "tampered", "labels", "outside", "sliver", "dupe", "noattr"]
    )
}
#: Thresholds under which the hand-made projects' classes are balanced.
BALANCED = {"min_class_objects": 1, "min_class_fraction": 0}


@pytest.fixture
def validate(make_plugin, synapse_home):  # type: ignore[no-untyped-def]
    """``validate(params, source=PLAIN, check=True)``: run a validation plugin; the recorded run."""

    def run(params: dict, source: str = PLAIN, check: bool = True):  # type: ignore[no-untyped-def]
        config = PLUGIN_CONFIG.format(code="checks", category="data_validation", action="validation")
        plugin = make_plugin(config, {"validation.py": source}, name="checks-plugin")
        return run_action(plugin, "validation", params, home=synapse_home, check=check)

    return run


def good(client: BackendClient, project: Project, name: str, *tags: str) -> None:
    client.annotate_task_data(
        project.tasks[name]["id"],
        annotation(
            box("c", "car", [10, 10, 30, 20], color="red"), box("p", "person", [50, 40, 10, 30]), tags=tags
        ),
    )


def planted(client: BackendClient, folder: Path, home: Path) -> Project:
    """A project with one planted problem per task (its image's name says which)."""
    project = build_project(client, folder, COLOURS)
    for name in COLOURS:
        good(client, project, name, "day", "night")
    storage = home / "storages" / "default"
    (storage / project.files["missing"]["path"]).unlink()
    # Other bytes, still a readable image: only the checksum tells.
    (storage / project.files["tampered"]["path"]).write_bytes(
        png(folder / "other.png", (7, 7, 7)).read_bytes()
    )
    broken = folder / "broken.png"
    broken.write_bytes(b"this is not a PNG")
    add_unit(project, folder, "broken", broken)
    good(client, project, "broken", "day")
    update = {
        "labels": [box("t", "truck", [10, 10, 30, 20])],
        "outside": [box("o", "car", [90, 10, 20, 20], color="red")],
        "sliver": [box("s", "car", [10, 10, 0.5, 0.5], color="red")],
        "dupe": [
            box("d1", "car", [10, 10, 30, 20], color="red"),
            box("d2", "car", [10, 10, 30, 20.2], color="red"),
        ],
        "noattr": [box("n", "car", [10, 10, 30, 20])],
    }
    for name, boxes in update.items():
        client.annotate_task_data(project.tasks[name]["id"], annotation(*boxes))
    return project


def problems_of(path: str | Path) -> list[dict]:
    return json.loads(Path(path).read_text())["problems"]


def found(problems: list[dict]) -> set[tuple[str, str, str, str]]:
    return {(p["check"], p["item"], p["field"], p["severity"]) for p in problems}


def test_every_planted_problem_is_found_with_its_item_and_severity(tmp_path, synapse_home, validate):
    client = get_backend_client()
    project = planted(client, tmp_path / "images", synapse_home)
    task = {name: f"task {t['id']}" for name, t in project.tasks.items()}

    run = validate({"project": project.id, "min_class_objects": 2, "min_class_fraction": 0}, check=False)

    assert run.status == "FAILED"
    assert isinstance(run.exception, ExecutionError)
    assert "validation of project" in run.error and "found 7 error(s)" in run.error
    report = next(run.folder.glob("validation_report.json"))
    problems = problems_of(report)
    box0 = "data.images[0].bounding_box[0]"
    assert found(problems) == {
        ("file", task["missing"], "files", "error"),
        ("file", task["tampered"], "files.checksum", "error"),
        ("file", task["broken"], "files", "error"),
        ("classes", task["labels"], f"{box0}.classification", "error"),
        ("boxes", task["outside"], f"{box0}.data", "error"),
        ("boxes", task["sliver"], f"{box0}.data", "error"),
        ("duplicates", task["dupe"], "data.images[0].bounding_box[1]", "warning"),
        ("attributes", task["noattr"], f"{box0}.attrs", "error"),
        # truck: 1 object (below 2); day is on 9 images, night on 8, car and person on more.
        ("class_balance", "class truck", "classes.truck", "warning"),
    }
    by_item = {(p["check"], p["item"]): p for p in problems}
    assert by_item["boxes", task["outside"]]["fix"] == "clip it to [90, 10, 10, 20]"
    assert (
        by_item["boxes", task["sliver"]]["message"]
        == "the box [10, 10, 0.5, 0.5] has an area of 0.25 px² (below 1)"
    )
    assert by_item["classes", task["labels"]]["message"].startswith(
        "class 'truck' is not in the project's configuration"
    )
    assert by_item["duplicates", task["dupe"]]["fix"] == "delete box 'd2'"
    missing = by_item["file", task["missing"]]
    assert (missing["file"], missing["data_unit"]) == ("missing.png", project.units["missing"]["id"])
    assert any(
        m.startswith(f"Validation of project {project.id}: 9 item(s) checked, 7 error(s)")
        for m in run.messages
    )


def test_a_clean_project_passes_with_nothing_found(tmp_path, validate):
    client = get_backend_client()
    project = build_project(client, tmp_path / "images", {"a": (1, 1, 1), "b": (2, 2, 2)})
    good(client, project, "a", "day")
    good(client, project, "b", "night")

    run = validate({"project": project.id, **BALANCED})

    assert run.succeeded
    assert (run.result["passed"], run.result["errors"], run.result["warnings"]) == (True, 0, 0)
    assert problems_of(run.result["report"]) == []
    assert run.metrics["validation"]["items"] == 2 and run.progress["validation"]["percent"] == 100


def test_split_leakage_in_a_ground_truth_version(tmp_path, validate):
    client = get_backend_client()
    project = build_project(client, tmp_path / "images", {"a": (1, 1, 1)})
    twin = png(tmp_path / "twin.png", (9, 9, 9))
    add_unit(project, tmp_path, "twin-a", twin, note="first")
    add_unit(project, tmp_path, "twin-b", twin, note="second")
    dataset = client.create_ground_truth_dataset({"name": "gt", "project": project.id})
    version = client.create_ground_truth_version(dataset["id"], "1")
    data = annotation(box("c", "car", [10, 10, 30, 20], color="red"), tags=("day",))
    events = client.add_ground_truth_events(version["id"], [
        {"data_unit": project.units[name]["id"], "data": data, "split": split}
        for name, split in (("a", "train"), ("twin-a", "train"), ("twin-b", "test"))
    ])  # fmt: skip
    client.freeze_ground_truth_version(version["id"])

    run = validate(
        {"ground_truth_dataset_version": version["id"], "fail_on": "never", "skip_checks": ["class_balance"]}
    )

    assert run.succeeded and run.result["passed"] is False
    problems = problems_of(run.result["report"])
    assert found(problems) == {("split_leakage", f"event {events[2]['id']}", "split", "error")}
    assert problems[0]["message"].endswith(f"is in train as event {events[1]['id']} and in test here")


def test_warnings_fail_only_with_fail_on_warning_and_a_plugin_adds_a_check(tmp_path, validate):
    source = (
        PLAIN
        + """

class Action(Action):
    item_checks = (*ValidationAction.item_checks, "tagged")

    def check_tagged(self, item, context):
        if not any(image.get("tags") for image in (item.data or {}).get("images", [])):
            yield item.problem("tagged", "data.images", "warning", "the image has no tag", "tag it")
"""
    )
    client = get_backend_client()
    project = build_project(client, tmp_path / "images", {"a": (1, 1, 1)})
    good(client, project, "a")

    params = {"project": project.id, "skip_checks": ["class_balance"]}  # day and night have no tag here
    passed = validate(params, source)
    failed = validate({**params, "fail_on": "warning"}, source, check=False)

    assert passed.succeeded and (passed.result["errors"], passed.result["warnings"]) == (0, 1)
    assert passed.result["by_check"] == {"tagged": {"warning": 1}}
    assert failed.status == "FAILED" and "found 0 error(s) and 1 warning(s)" in failed.error
    with pytest.raises(ParamsError, match="give one of project or ground_truth_dataset_version, not both"):
        ValidationAction(params={"project": 1, "ground_truth_dataset_version": 2})
    with pytest.raises(ParamsError, match="like {'project': 3}"):
        validate({})


def test_over_http_against_a_real_server(tmp_path, backend_server):
    client = BackendClient(backend_server.url, access_token=backend_server.token)
    try:
        project = build_project(client, tmp_path / "images", {"a": (1, 1, 1), "b": (2, 2, 2)})
        good(client, project, "a", "day")
        client.annotate_task_data(project.tasks["b"]["id"], annotation(box("x", "bus", [0, 0, 5, 5])))
        stored = backend_server.home / "storages" / "default" / project.files["a"]["path"]
        stored.write_bytes(png(tmp_path / "other.png", (3, 3, 3)).read_bytes())  # re-hashed over HTTP
        action = ValidationAction(params={"project": project.id, **BALANCED, "fail_on": "never"})
        action.client = client
        result = action.run_action()
    finally:
        client.backend.close()
    # The changed file, the unknown class, and "night" (configured, on no image).
    assert result["by_check"] == {
        "file": {"error": 1},
        "classes": {"error": 1},
        "class_balance": {"warning": 1},
    }
    assert result["items"] == 2


def test_the_cli_exits_1_on_errors_and_0_on_clean_data(tmp_path, make_plugin, synapse_home):
    client = get_backend_client()
    project = build_project(client, tmp_path / "images", {"a": (1, 1, 1), "b": (2, 2, 2)})
    good(client, project, "a", "day")
    good(client, project, "b", "night")
    config = PLUGIN_CONFIG.format(code="checks", category="data_validation", action="validation")
    plugin = make_plugin(config, {"validation.py": PLAIN}, name="cli-plugin")
    env = {"SYNAPSE_HOME": str(synapse_home)}
    params = {"project": project.id, **BALANCED}

    clean = run_cli("plugin", "run", "validation", json.dumps(params), "--debug", cwd=plugin, env=env)
    client.annotate_task_data(project.tasks["b"]["id"], annotation(box("x", "bus", [0, 0, 5, 5])))
    dirty = run_cli("plugin", "run", "validation", json.dumps(params), "--debug", cwd=plugin, env=env)

    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["passed"] is True
    assert dirty.returncode == 1
    assert "Error: validation of project" in dirty.stderr and "found 1 error(s)" in dirty.stderr
