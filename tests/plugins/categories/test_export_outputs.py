"""Where exports go and how they end: S3 storages, unique file names, checksums, failures, formats."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from synapse_sdk.plugins.testing import run_action
from tests.conftest import run_cli

EXPORTS = Path("storages") / "default" / "exports"


def test_an_export_to_an_s3_storage_is_published_there(
    export_plugin, photo_platform, synapse_home, s3_server
):
    bucket = s3_server.create_bucket(f"exports-{uuid.uuid4().hex[:12]}")
    storage = photo_platform.client.create_storage(
        {
            "name": "archive",
            "provider": "s3",
            "configuration": {
                "bucket": bucket,
                "prefix": "team",
                "endpoint_url": s3_server.endpoint_url,
                "region": "us-east-1",
                "access_key_id": s3_server.access_key,
                "secret_access_key": s3_server.secret_key,
            },
        }
    )
    params = {
        "name": "gt",
        "storage": storage["id"],
        "path": "exports/coco",
        "target": "ground_truth",
        "filter": {"ground_truth_dataset_version": photo_platform.version},
        "extra_params": {"output_format": "coco"},
    }
    run = run_action(export_plugin(), "export", params, home=synapse_home)

    assert run.result["export_path"] == f"s3://{bucket}/team/exports/coco/gt"
    listed = s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]
    keys = sorted(o["Key"] for o in listed)
    assert keys == [
        "team/exports/coco/gt/annotations/instances_train.json",
        "team/exports/coco/gt/annotations/instances_val.json",
        "team/exports/coco/gt/export_manifest.jsonl",
        *sorted(
            f"team/exports/coco/gt/images/{e['split']}/{name}"
            for e, name in zip(
                photo_platform.events,
                ["astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg"],
                strict=True,
            )
        ),
    ]
    body = s3_server.client().get_object(Bucket=bucket, Key="team/exports/coco/gt/images/val/astronaut.jpg")
    assert body["Body"].read() == (photo_platform.images / "astronaut.jpg").read_bytes()
    assert not (synapse_home / "exports").exists() or not any((synapse_home / "exports").rglob("*.json"))
    # The same name again: a new folder beside it; resume of the published one: nothing to do.
    again = run_action(export_plugin(), "export", params, home=synapse_home)
    assert again.result["export_path"].endswith("/gt(1)")
    done = run_action(export_plugin(), "export", {**params, "resume": True}, home=synapse_home)
    assert done.result["already_complete"] and done.result["export_path"].endswith("/gt(1)")
    escaped = run_action(
        export_plugin(), "export", {**params, "path": "../up"}, home=synapse_home, check=False
    )
    assert escaped.status == "FAILED" and "leaves the storage root" in escaped.error


def test_file_names_stay_unique_and_damaged_files_fail_alone(export_plugin, photo_platform, synapse_home):
    client = photo_platform.client
    # A second data unit named like the first (other bytes): its files get the item id appended.
    import skimage.data
    from PIL import Image

    twin = photo_platform.images / "twin" / "astronaut.jpg"
    twin.parent.mkdir()
    Image.fromarray(skimage.data.camera()).save(twin)
    data_file = client.create_data_file(twin)
    unit = client.create_data_units(
        [{"data_collection": 1, "files": {"image": {"data_file": data_file["id"]}}}]
    )[0]
    task = client.create_tasks(
        [
            {
                "project": photo_platform.project,
                "data_unit": unit["id"],
                "data": {"classification": {}, "images": []},
            }
        ]
    )[0]
    # A stored original whose bytes changed behind the platform's back.
    first = client.get_data_file(
        client.get_data_unit(photo_platform.tasks[1]["data_unit"])["files"]["image"]["data_file"]
    )
    stored = synapse_home / "storages" / "default" / first["path"]
    stored.write_bytes(stored.read_bytes()[:-10])

    run = run_action(
        export_plugin(),
        "export",
        {"name": "names", "storage": 1, "target": "task", "filter": {"project": photo_platform.project}},
        home=synapse_home,
    )
    out = Path(run.result["export_path"])
    assert (run.result["success"], run.result["failed"]) == (4, 1)
    assert sorted(p.name for p in (out / "json").iterdir()) == [
        "astronaut.json",
        f"astronaut_{task['id']}.json",
        "coffee.json",
        "rocket.json",
    ]
    assert (out / "origin_files" / f"astronaut_{task['id']}.jpg").read_bytes() == twin.read_bytes()
    errors = json.loads((out / "error_file_list.json").read_text())
    assert errors["json_file_name"] == []
    [(name, message)] = errors["origin_file_name"]
    assert name == "chelsea.jpg" and "checksum mismatch" in message
    assert not (out / "origin_files" / "chelsea.jpg").exists()
    assert not list(out.rglob("*.part"))
    assert any("1 of 5 item(s) failed" in m and "error_file_list.json" in m for m in run.messages)


FAILING = """
import os

from synapse_sdk.plugins.categories.export import BaseExporter


class Exporter(BaseExporter):
    def save_as_json(self, result, base_path, error_file_list):
        if os.environ.get("EXPORT_TEST_DISK_FULL"):
            raise OSError("disk full")
        return super().save_as_json(result, base_path, error_file_list)
"""


def test_when_every_item_fails_the_run_fails_and_resume_tries_them_again(
    export_plugin, photo_platform, synapse_home
):
    plugin = export_plugin(FAILING)
    params = {
        "name": "broken",
        "storage": 1,
        "target": "task",
        "save_original_file": False,
        "filter": {"project": photo_platform.project},
    }
    env = {"SYNAPSE_HOME": str(synapse_home), "EXPORT_TEST_DISK_FULL": "1"}
    proc = run_cli("plugin", "run", "export", json.dumps(params), "--debug", cwd=plugin, env=env)
    assert proc.returncode == 1
    assert "every item failed (0 saved, 4 failed, 0 skipped)" in proc.stderr
    out = synapse_home / EXPORTS / "broken"
    errors = json.loads((out / "error_file_list.json").read_text())
    assert [e[1] for e in errors["json_file_name"]] == ["OSError: disk full"] * 4

    # The disk has room again: resume does the failed items again, and only them.
    again = run_action(plugin, "export", {**params, "resume": True}, home=synapse_home)
    assert again.result["export_path"] == str(out)
    assert (again.result["success"], again.result["failed"], again.result["resumed"]) == (4, 0, 0)
    assert any("4 failed: trying them again" in m for m in again.messages)
    assert again.result["error_file_list"] is None and not (out / "error_file_list.json").exists()


CUSTOM_PARAMS = """
from typing import Literal

from synapse_sdk.plugins.categories.export import BaseExporter, ExportParams


class CustomExportParams(ExportParams):
    output_format: Literal["json", "csv", "xml"] = "json"
    include_metadata: bool = True


class Exporter(BaseExporter):
    params_model = CustomExportParams

    def save_as_json(self, result, base_path, error_file_list):
        name = base_path / f"{result['id']}.{self.params['output_format']}"
        name.write_text(f"{self.params['output_format']} {self.params['include_metadata']}")
        return "success"
"""


def test_extra_params_reach_a_subclassed_params_model_unchanged(export_plugin, photo_platform, synapse_home):
    plugin = export_plugin(CUSTOM_PARAMS)
    params = {
        "name": "csv",
        "storage": 1,
        "target": "task",
        "save_original_file": False,
        "filter": {"project": photo_platform.project},
        "extra_params": {"output_format": "csv", "include_metadata": False},
    }
    run = run_action(plugin, "export", params, home=synapse_home)
    out = Path(run.result["export_path"])
    assert run.result["output_format"] == "csv"
    assert {p.read_text() for p in (out / "json").iterdir()} == {"csv False"}
    from synapse_sdk.errors import ParamsError

    with pytest.raises(
        ParamsError, match=r"params.extra_params.output_format: expected one of json, csv, xml, got 'coco'"
    ):
        run_action(plugin, "export", {**params, "extra_params": {"output_format": "coco"}}, home=synapse_home)
    with pytest.raises(ParamsError, match="given twice"):
        run_action(plugin, "export", {**params, "output_format": "xml"}, home=synapse_home)


def test_each_format_writes_its_dataset_and_counts_what_it_cannot_hold(
    export_plugin, photo_platform, synapse_home
):
    plugin = export_plugin()
    params = {
        "storage": 1,
        "target": "ground_truth",
        "filter": {"ground_truth_dataset_version": photo_platform.version},
    }
    layouts = {
        "coco": ["annotations/instances_train.json", "annotations/instances_val.json"],
        "yolo": ["data.yaml", "labels/val/astronaut.txt"],
        "voc": [
            "Annotations/astronaut.xml",
            "ImageSets/Main/val.txt",
            "JPEGImages/astronaut.jpg",
            "labelmap.txt",
        ],
    }
    for fmt, expected in layouts.items():
        run = run_action(
            plugin,
            "export",
            {**params, "name": fmt, "extra_params": {"output_format": fmt}},
            home=synapse_home,
        )
        out = Path(run.result["export_path"])
        assert run.result["success"] == 4, run.messages
        assert all((out / path).is_file() for path in expected), sorted(out.rglob("*"))
        assert not (out / "json").exists()
    coco = json.loads((synapse_home / EXPORTS / "coco" / "annotations" / "instances_train.json").read_text())
    assert [c["name"] for c in coco["categories"]] == ["face", "helmet", "rocket", "eye", "cup", "spoon"]
    # ImageFolder holds one class per image: the photos with several fail, each named.
    folder = run_action(
        plugin,
        "export",
        {**params, "name": "if", "extra_params": {"output_format": "imagefolder"}},
        home=synapse_home,
    )
    assert (folder.result["success"], folder.result["failed"]) == (2, 2)
    errors = json.loads((synapse_home / EXPORTS / "if" / "error_file_list.json").read_text())[
        "json_file_name"
    ]
    assert [name for name, _ in errors] == ["astronaut.jpg", "coffee.jpg"]
    assert all("ImageFolder needs one class per image" in message for _, message in errors)
