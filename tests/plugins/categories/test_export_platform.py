"""Exports read the platform: assignments, tasks and ground-truth events of real imported photos."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from synapse_sdk.errors import ParamsError
from synapse_sdk.plugins.categories.export.actions.export import ExportParams
from synapse_sdk.plugins.testing import run_action
from tests.clients.samples import COCO

FIELDS = {
    "data_file",
    "path",
    "file_name_original",
    "size",
    "checksum",
    "width",
    "height",
    "storage",
    "file_name",
}
# An exporter that writes each whole item (not just its annotation) so the tests can read it.
ITEM_EXPORTER = """
from synapse_sdk.plugins.categories.export import BaseExporter


class Exporter(BaseExporter):
    def convert_data(self, data):
        return {"id": data["id"], "files": data["files"], "data": data}
"""


def export(plugin: Path, home: Path, check: bool = True, **params: object):  # type: ignore[no-untyped-def]
    base = {"name": "out", "storage": 1, "save_original_file": True}
    return run_action(plugin, "export", {**base, **params}, home=home, check=check)


def items_of(run) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    out = Path(run.result["export_path"])
    return {p.stem: json.loads(p.read_text()) for p in sorted((out / "json").glob("*.json"))}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_task_items_carry_their_primary_file_and_the_originals_are_copied(
    export_plugin, photo_platform, synapse_home
):
    plugin = export_plugin(ITEM_EXPORTER)
    run = export(plugin, synapse_home, target="task", filter={"project": photo_platform.project})

    assert run.succeeded and (run.result["total"], run.result["success"]) == (4, 4)
    out = Path(run.result["export_path"])
    assert out == synapse_home / "storages" / "default" / "exports" / "out"
    items = items_of(run)
    assert sorted(items) == ["astronaut", "chelsea", "coffee", "rocket"]
    sizes = {i["file_name"]: (i["width"], i["height"]) for i in COCO["images"]}
    for stem, item in items.items():
        files = item["files"]
        assert set(files) == FIELDS
        assert files["file_name"] == files["file_name_original"] == f"{stem}.jpg"
        assert (files["width"], files["height"]) == sizes[files["file_name"]]
        assert files["storage"] == photo_platform.storage
        copied = out / "origin_files" / files["file_name"]
        assert copied.read_bytes() == (photo_platform.images / files["file_name"]).read_bytes()
        assert sha(copied) == files["checksum"] and copied.stat().st_size == files["size"]
        task = next(t for t in photo_platform.tasks if t["id"] == item["id"])
        assert (item["data"], item["status"], item["data_unit"]) == (
            task["data"],
            "pending",
            task["data_unit"],
        )
    assert [e["id"] for e in run.events("export_file")] == [t["id"] for t in photo_platform.tasks]
    assert run.metrics["data_file"] == {"success": 4, "failed": 0, "skipped": 0, "stand_by": 0}
    assert run.metrics["original_file"]["success"] == 4


def test_assignments_by_status_and_annotator_with_their_task_expanded(
    export_plugin, photo_platform, synapse_home
):
    plugin = export_plugin(ITEM_EXPORTER)
    completed = export(
        plugin,
        synapse_home,
        target="assignment",
        save_original_file=False,
        filter={"project": photo_platform.project, "status": "completed", "expand": ["task"]},
    )

    done = [a for a in photo_platform.assignments if a["status"] in ("submitted", "approved")]
    items = items_of(completed)
    assert sorted(i["id"] for i in items.values()) == [a["id"] for a in done]
    for item in items.values():
        assert item["task"]["id"] == next(a["task"] for a in done if a["id"] == item["id"])
        assert item["files"]["data_file"] == next(
            u["files"]["image"]["data_file"]
            for u in photo_platform.client.list_data_units(None, list_all=True)[0]
            if u["id"] == item["task"]["data_unit"]
        )
    by_annotator = export(
        plugin,
        synapse_home,
        target="assignment",
        save_original_file=False,
        filter={"project": photo_platform.project, "annotator": "ann1"},
    )
    assert by_annotator.result["total"] == 2


def test_ground_truth_items_carry_their_split(export_plugin, photo_platform, synapse_home):
    plugin = export_plugin(ITEM_EXPORTER)
    run = export(
        plugin,
        synapse_home,
        target="ground_truth",
        save_original_file=False,
        filter={"ground_truth_dataset_version": photo_platform.version, "expand": ["data", "data_unit"]},
    )

    items = items_of(run)
    splits = {e["id"]: e["split"] for e in photo_platform.events}
    assert {i["id"]: i["split"] for i in items.values()} == splits
    assert sorted(splits.values()) == ["train", "train", "train", "val"]
    assert all(isinstance(i["data_unit"], dict) and "files" in i["data_unit"] for i in items.values())
    val = export(
        plugin,
        synapse_home,
        target="ground_truth",
        save_original_file=False,
        filter={"ground_truth_dataset_version": photo_platform.version, "split": "val"},
    )
    assert val.result["total"] == 1


@pytest.mark.parametrize(
    ("target", "flt", "message"),
    [
        ("task", {}, "filter.project: required for target 'task'"),
        ("task", {"projct": 1}, "filter.projct: not a filter of target 'task' (did you mean 'project'?)"),
        ("assignment", {"project": 1, "annotater": "a"}, "(did you mean 'annotator'?)"),
        ("ground_truth", {"project": 1}, "filter.ground_truth_dataset_version: required"),
        (
            "task",
            {"project": 1, "expand": ["data_units"]},
            "'data_units' cannot be expanded for target 'task' (did you mean 'data_unit'?)",
        ),
        ("task", {"project": "one"}, "filter.project: input should be a valid integer"),
        ("task", {"project": 1, "status": "done"}, "filter.status: input should be"),
        ("local", {}, "filter.source: required for target 'local'"),
    ],
    ids=["missing", "typo", "assignment-typo", "gt-missing", "expand", "type", "status", "local"],
)
def test_filters_are_checked_per_target_at_the_door(target, flt, message):
    with pytest.raises(ParamsError) as raised:
        ExportAction_validate({"name": "x", "storage": 1, "target": target, "filter": flt})
    assert message in str(raised.value)


def ExportAction_validate(params: dict) -> None:  # noqa: N802 - reads as the action's validation
    from synapse_sdk.plugins.categories.export.actions.export import ExportAction

    ExportAction.validate_params(params)


def test_the_spec_filters_validate_as_written():
    # Step 4 of the spec, verbatim: each target with its filter.
    filters = {
        "ground_truth": {"ground_truth_dataset_version": 123, "expand": ["data"]},
        "assignment": {"project": 456, "status": "completed", "expand": ["data"]},
        "task": {"project": 456, "assignment": 789, "expand": ["data_unit", "assignment"]},
    }
    for target, flt in filters.items():
        params = ExportParams.model_validate({"name": "x", "storage": 1, "target": target, "filter": flt})
        assert params.filter == flt


def test_a_missing_project_or_version_fails_before_anything_is_written(export_plugin, synapse_home):
    plugin = export_plugin()
    run = export(plugin, synapse_home, check=False, target="task", filter={"project": 99})
    assert run.status == "FAILED" and "project 99 does not exist" in run.error
    run = export(
        plugin, synapse_home, check=False, target="ground_truth", filter={"ground_truth_dataset_version": 5}
    )
    assert run.status == "FAILED" and "ground-truth dataset version 5 does not exist" in run.error
    assert not (synapse_home / "storages" / "default" / "exports").exists()


def test_zero_items_is_said_and_succeeds(export_plugin, photo_platform, synapse_home):
    run = export(
        export_plugin(),
        synapse_home,
        target="task",
        filter={"project": photo_platform.project, "status": "reviewed"},
    )
    assert run.succeeded and run.result["total"] == 0
    assert any("Nothing to export" in m and "has no items" in m for m in run.messages)


class CountingTransport(httpx.HTTPTransport):
    """The real network transport, counting requests by method and path (an observer, not a fake)."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        return super().handle_request(request)


def test_over_http_lookups_are_one_call_per_page_not_per_item(
    export_plugin, backend_server, tmp_path, synapse_home
):
    from synapse_sdk.backend.http import HttpBackend
    from synapse_sdk.clients.backend import BackendClient
    from synapse_sdk.clients.backend.imports import import_coco
    from synapse_sdk.plugins.categories.export.actions.export import ExportAction
    from tests.clients.samples import write_generated

    images, coco = write_generated(tmp_path / "generated", count=40, size=(32, 24))
    transport = CountingTransport()
    client = BackendClient(backend=HttpBackend(backend_server.url, backend_server.token, transport=transport))
    try:
        report = import_coco(client, images, coco, project="squares")
        transport.requests.clear()
        plugin = export_plugin()
        action = ExportAction(
            params={
                "name": "over-http",
                "storage": 1,
                "target": "task",
                "filter": {"project": report.project},
            },
            plugin_path=plugin,
        )
        action.client = client
        result = action.run_action()
    finally:
        client.backend.close()
    assert (result["total"], result["success"]) == (40, 40)
    calls = transport.requests
    assert calls.count("GET /data_units/") == 1 and calls.count("GET /data_files/") == 1
    assert not [c for c in calls if c.startswith("GET /data_units/") and c != "GET /data_units/"]
    assert sum(c.endswith("/download/") for c in calls) == 40  # the originals, streamed
    out = Path(result["export_path"])
    assert len(list((out / "origin_files").iterdir())) == 40
