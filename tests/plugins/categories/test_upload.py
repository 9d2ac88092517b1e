"""The upload category: folders of files into a storage and a data collection, through a ``BaseUploader``.

Every test runs the real ``upload`` action of a plugin folder written inline, against the test's
embedded platform (SQLite + the default local storage).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.errors import ParamsError
from synapse_sdk.plugins.categories.upload import BaseUploader, UploadAction, UploadParams, UploadStatus
from synapse_sdk.plugins.testing import run_action
from tests.plugins.categories.upload_platform import (
    pairs_collection,
    png,
    units_of,
    upload_errors,
    upload_plugin,
    write_pairs,
)

__all__ = ["upload_plugin"]  # the fixture, imported for the tests below


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    return get_backend_client()


def test_single_path_makes_a_data_unit_per_stem_and_a_task_each(
    upload_plugin, client, tmp_path, synapse_home
):
    stems = write_pairs(tmp_path / "data", 4)
    collection = pairs_collection(client)
    project = client.create_project({"title": "pairs", "data_collection": collection["id"]})
    params = {
        "name": "first",
        "data_collection": collection["id"],
        "project": project["id"],
        "path": str(tmp_path / "data"),
    }

    run = run_action(upload_plugin(), "upload", params, home=synapse_home)

    result = run.result
    assert (result["uploaded"], result["skipped"], result["failed"]) == (8, 0, 0)
    assert (result["data_units"], result["data_units_created"], result["tasks_created"]) == (4, 4, 4)
    assert result["error_file_list"] is None and result["data_collection"] == collection["id"]
    units = units_of(client, collection["id"])
    stored = {unit["files"]["image"]["checksum"] for unit in units}
    assert len(stored) == 4 and all(set(unit["files"]) == {"image", "label"} for unit in units)
    image = client.get_data_file(units[0]["files"]["image"]["data_file"])
    assert image["name"] in {f"{stem}.png" for stem in stems} and image["meta"]["width"] == 8
    tasks = list(client.list_tasks({"project": project["id"]}, list_all=True)[0])
    assert sorted(task["data_unit"] for task in tasks) == sorted(unit["id"] for unit in units)
    assert [e["status"] for e in run.events("upload_file")] == ["success"] * 8
    assert len(run.events("upload_data_unit")) == 4
    assert {
        c: run.progress[c]["percent"] for c in ("analyze", "upload", "data_units", "tasks")
    } == dict.fromkeys(("analyze", "upload", "data_units", "tasks"), 100)
    assert run.metrics["data_file"] == {"success": 8, "skipped": 0, "failed": 0, "stand_by": 0}


def test_multi_path_reads_each_specification_from_its_own_folder(
    upload_plugin, client, tmp_path, synapse_home
):
    """Images from one folder with its sub-folders, labels from another without them."""
    write_pairs(tmp_path / "a", 2)
    write_pairs(tmp_path / "a", 1, start=5, sub="deep")
    (tmp_path / "a" / "image" / ".DS_Store").write_bytes(b"junk")
    (tmp_path / "a" / "image" / "@eaDir").mkdir()
    (tmp_path / "a" / "image" / "@eaDir" / "p000.png").write_bytes(png(99))
    collection = pairs_collection(client)
    params = {
        "name": "multi",
        "data_collection": collection["id"],
        "use_single_path": False,
        "assets": {
            "image": {"path": str(tmp_path / "a" / "image"), "is_recursive": True},
            "label": {"path": str(tmp_path / "a" / "label"), "is_recursive": False},
        },
    }

    result = run_action(upload_plugin(), "upload", params, home=synapse_home).result

    assert (result["data_units"], result["uploaded"], result["failed"]) == (3, 5, 0)
    files = sorted(sorted(unit["files"]) for unit in units_of(client, collection["id"]))
    assert files == [["image"], ["image", "label"], ["image", "label"]]  # deep/p005's label is not read


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_metadata_rows_become_the_units_meta(upload_plugin, client, tmp_path, synapse_home, kind):
    write_pairs(tmp_path / "data", 3)
    rows = [["file_name", "camera", "frame"], ["p000.png", "front", 1], ["p001", "rear", 2]]
    sheet = tmp_path / f"meta.{kind}"
    if kind == "csv":
        with sheet.open("w", newline="") as f:
            csv.writer(f).writerows(rows)
    else:
        from openpyxl import Workbook

        book = Workbook()
        for row in rows:
            book.active.append(row)
        book.save(sheet)
    collection = pairs_collection(client)
    params = {
        "name": "meta",
        "data_collection": collection["id"],
        "path": str(tmp_path / "data"),
        "excel_metadata_path": str(sheet),
    }

    run_action(upload_plugin(), "upload", params, home=synapse_home)

    by_name = {
        client.get_data_file(u["files"]["image"]["data_file"])["name"]: u["meta"]
        for u in units_of(client, collection["id"])
    }
    assert by_name == {
        "p000.png": {"camera": "front", "frame": 1},
        "p001.png": {"camera": "rear", "frame": 2},
        "p002.png": {},
    }


def test_a_metadata_file_over_its_limits_stops_the_upload_before_any_file(
    upload_plugin, client, tmp_path, synapse_home
):
    write_pairs(tmp_path / "data", 1)
    sheet = tmp_path / "wide.csv"
    sheet.write_text(",".join(f"c{n}" for n in range(60)) + "\n" + ",".join("x" * 60) + "\n")
    collection = pairs_collection(client)
    params = {
        "name": "m",
        "data_collection": collection["id"],
        "path": str(tmp_path / "data"),
        "excel_metadata_path": str(sheet),
    }

    run = run_action(upload_plugin(), "upload", params, home=synapse_home, check=False)

    assert run.status == "FAILED" and "wide.csv" in run.error and "50" in run.error
    assert type(run.exception).exit_code == 2
    assert units_of(client, collection["id"]) == [] and run.events("upload_file") == []


def test_missing_required_files_bad_extensions_and_large_files_fail_their_units_only(
    upload_plugin, client, tmp_path, synapse_home
):
    write_pairs(tmp_path / "data", 3)
    (tmp_path / "data" / "label" / "orphan.txt").write_text("no image")
    (tmp_path / "data" / "image" / "scan.gif").write_bytes(b"GIF89a")
    (tmp_path / "data" / "image" / "huge.png").write_bytes(png(1) + b"\0" * 1_100_000)
    collection = pairs_collection(client)
    params = {
        "name": "checks",
        "data_collection": collection["id"],
        "path": str(tmp_path / "data"),
        "max_file_size_mb": 1,
    }

    run = run_action(upload_plugin(), "upload", params, home=synapse_home)

    result = run.result
    assert run.status == "SUCCEEDED" and (result["data_units"], result["uploaded"]) == (3, 6)
    errors = {Path(e["file"]).name: e["error"] for e in upload_errors(result)}
    assert "requires a 'image' file" in errors["orphan.png"]
    assert "'.gif' is not an allowed extension for 'image' files (allowed: .png, .jpg)" in errors["scan.gif"]
    assert "1.0 MB is more than max_file_size_mb 1" in errors["huge.png"]
    assert result["failed"] == 3 and result["data_units_failed"] == 1
    warnings = [log.message for log in run.logs if log.level == "WARNING" and log.message]
    assert warnings == [
        f"1 of 4 data unit(s) and 3 file(s) failed; the failed files are listed in "
        f"{result['error_file_list']}"
    ]


def test_an_upload_where_every_unit_fails_fails(upload_plugin, client, tmp_path, synapse_home):
    write_pairs(tmp_path / "data", 2)
    collection = pairs_collection(client)
    params = {
        "name": "tiny",
        "data_collection": collection["id"],
        "path": str(tmp_path / "data"),
        "max_file_size_mb": 0.00001,
    }

    run = run_action(upload_plugin(), "upload", params, home=synapse_home, check=False)

    assert run.status == "FAILED" and "every data unit failed (0 file(s) uploaded" in run.error
    assert "upload_errors.json" in run.error and units_of(client, collection["id"]) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"storage": 99}, "params.storage: there is no storage 99; give a storage id"),
        ({"data_collection": 98}, "params.data_collection: there is no data collection 98"),
        (
            {"use_single_path": False, "path": None, "assets": {"imgae": {"path": "x"}}},
            "params.assets.imgae: not a file specification of collection 1 (did you mean 'image'?)",
        ),
        ({"project": "other"}, "is over data collection 2, not 1; give a project of this collection"),
        ({"path": None}, "params.path: required in single-path mode"),
        ({"upload_max_workers": 0}, "params.upload_max_workers: input should be greater than or equal to 1"),
        (
            {"extra_params": {"num_shards": 0}},
            "params.extra_params.num_shards: expected a whole number from 1",
        ),
    ],
    ids=["storage", "collection", "asset-key", "project", "no-path", "workers", "shards"],
)
def test_params_are_checked_against_the_platform_first(
    upload_plugin, client, tmp_path, synapse_home, change, message
):
    collection = pairs_collection(client)
    if change.get("project") == "other":
        other = pairs_collection(client, "other")
        change = {"project": client.create_project({"title": "o", "data_collection": other["id"]})["id"]}
    params = {"name": "p", "data_collection": collection["id"], "path": str(tmp_path), **change}

    try:
        run = run_action(upload_plugin(), "upload", params, home=synapse_home, check=False)
        error, exception = run.error, run.exception
    except ParamsError as exc:  # refused before the run started
        error, exception = str(exc), exc
    assert message in error and type(exception).exit_code == 2


def test_relative_paths_are_under_the_plugin_folder(upload_plugin, client, synapse_home):
    plugin = upload_plugin()
    write_pairs(plugin / "datasets" / "pairs", 2)
    collection = pairs_collection(client)

    result = run_action(
        plugin,
        "upload",
        {"name": "rel", "data_collection": collection["id"], "path": "datasets/pairs"},
        home=synapse_home,
    ).result

    assert result["data_units"] == 2


HOOKS = """
from PIL import Image

from synapse_sdk.plugins.categories.upload import BaseUploader, UploadParams


class HookParams(UploadParams):
    drop: str = "none"


class Uploader(BaseUploader):
    def setup_directories(self):
        self.converted = self.work_dir / "converted"
        self.converted.mkdir()
        self.run.log_message("hooks: setup_directories")

    def organize_files(self, files):
        self.run.log_message(f"hooks: organize_files {len(files)}")
        return files

    def process_files(self, files):
        for group in files:
            image = group["files"]["image"]
            if image.suffix == ".bmp":  # convert BMP scans to PNG
                target = self.converted / f"{image.stem}.png"
                Image.open(image).save(target)
                group["files"]["image"] = target
            if image.stem == "p003":
                raise RuntimeError("cannot convert p003")
            group["meta"]["processed"] = True
        return files

    def filter_files(self, organized_file):
        image = organized_file["files"].get("image")
        return image is None or image.stem != self.extra_params["drop"]
"""


def test_hooks_convert_filter_and_a_raising_hook_fails_its_batch_only(
    upload_plugin, client, tmp_path, synapse_home
):
    from PIL import Image

    write_pairs(tmp_path / "data", 6)
    Image.new("RGB", (4, 4), "red").save(tmp_path / "data" / "image" / "scan.bmp")
    for stem in ("p001", "p004"):
        (tmp_path / "data" / "image" / f"{stem}.png").rename(tmp_path / "data" / "image" / f"{stem}.tga")
    collection = client.create_data_collection(
        {
            "name": "any",
            "file_specifications": [
                {"name": "image", "file_type": "image", "is_required": True},
                {"name": "label", "file_type": "text"},
            ],
        }
    )
    params = {
        "name": "hooks",
        "data_collection": collection["id"],
        "path": str(tmp_path / "data"),
        "upload_batch_size": 2,
        "extra_params": {"drop": "p005"},
    }

    run = run_action(upload_plugin(HOOKS), "upload", params, home=synapse_home)

    # Batches of 2 in key order: [p000, p001] [p002, p003] [p004, p005] [scan]; p003 raises in its batch.
    result = run.result
    assert (result["data_units"], result["data_units_failed"]) == (2, 4)
    names = sorted(
        client.get_data_file(u["files"]["image"]["data_file"])["name"]
        for u in units_of(client, collection["id"])
    )
    assert names == ["p000.png", "scan.png"]  # p001.tga and p004.tga filtered, p005 dropped by filter_files
    assert all(u["meta"] == {"processed": True} for u in units_of(client, collection["id"]))
    errors = upload_errors(result)
    assert {Path(e["file"]).name for e in errors if "cannot convert p003" in e["error"]} == {
        "p002.png",
        "p002.txt",
        "p003.png",
        "p003.txt",
    }
    assert any(e["error"] == "process_files failed: RuntimeError: cannot convert p003" for e in errors)
    messages = [log.message for log in run.logs if log.message]
    assert messages.count("hooks: setup_directories") == 1
    assert [m for m in messages if m.startswith("hooks: organize")] == ["hooks: organize_files 2"] * 3 + [
        "hooks: organize_files 1"
    ]
    filtered = [m for m in messages if "filtered out" in m]
    assert (
        len(filtered) == 1
        and filtered[0].startswith("2 image file(s) filtered out")
        and filtered[0].endswith("(p001.tga, p004.tga)")
    )


def test_the_action_class_takes_the_uploaders_params_model(upload_plugin):
    from synapse_sdk.plugins.loader import load_plugin

    action = load_plugin(upload_plugin(HOOKS)).actions["upload"]
    assert issubclass(action, UploadAction) and action.params_model.__name__ == "HookParams"
    assert action.uploader_class.__name__ == "Uploader" and issubclass(action.uploader_class, BaseUploader)
    with pytest.raises(ParamsError, match="params.extra_params.drop: input should be a valid string"):
        action.validate_params({"name": "x", "data_collection": 1, "path": ".", "extra_params": {"drop": 3}})


def test_the_uploader_runs_its_hooks_on_its_own(tmp_path):
    """``handle_upload_files()`` as the reference SDK calls it: the groups to upload."""

    class Run:
        def log_message(self, message, level="INFO"):
            self.last = (message, level)

    run = Run()
    groups = [
        {"files": {"image": tmp_path / "a.png"}, "meta": {}},
        {"files": {"image": tmp_path / "b.tif"}, "meta": {}},
    ]
    uploader = BaseUploader(run, tmp_path, [{"name": "image", "file_type": "image"}], groups, {})
    uploader.get_file_extensions_config = lambda: {"image": [".png"]}

    assert uploader.handle_upload_files() == [groups[0]]
    assert run.last == ("1 image file(s) filtered out: their extension is not one of .png (b.tif)", "WARNING")


def test_upload_params_and_status_are_public():
    assert UploadParams.model_fields["use_single_path"].default is True
    assert [s.value for s in UploadStatus] == ["success", "skipped", "failed"]
    assert (
        json.loads(UploadParams(name="n", data_collection=1, path="x").model_dump_json())["upload_batch_size"]
        == 200
    )


def test_the_upload_module_exports_exactly_its_names_and_imports_nothing_heavy():
    import subprocess
    import sys

    import synapse_sdk.plugins.categories.upload as upload

    public = {
        name
        for name, value in vars(upload).items()
        if not name.startswith("_") and not isinstance(value, type(sys))
    }
    assert set(upload.__all__) == public - {"annotations"}
    probe = "import sys, synapse_sdk.plugins.categories.upload.templates.plugin; print(sorted(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert not {"openpyxl", "ray", "PIL", "httpx"} & {
        name.strip("'") for name in loaded.strip("[]\n").split(", ")
    }
