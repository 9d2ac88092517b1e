"""Datasets written by the format writers, imported back into a real embedded platform: the tasks hold the
original annotations, the ground truth keeps the folders' splits, and a second run creates nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synapse_sdk.cli import main
from synapse_sdk.clients.backend import BackendClient, get_backend_client
from synapse_sdk.clients.backend.imports import import_coco, import_folder
from synapse_sdk.errors import UsageError
from tests.formats.exports import export, geometry, photo_samples, with_annotation, write_photos

FOLDER_FORMATS = ["imagefolder", "voc", "yolo"]
#: The class of each photo when it is exported as ImageFolder (its one tag).
TAGS = ["face", "eye", "cup", "rocket"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_photos(tmp_path_factory.mktemp("photos"))


@pytest.fixture
def client() -> BackendClient:
    """The embedded platform under the test's SYNAPSE_HOME."""
    return get_backend_client()


def samples_for(fmt: str, photos, *, splits: bool = True) -> list:
    """The photos as ``fmt`` holds them exactly: boxes for YOLO and VOC, a tag each for ImageFolder."""
    if fmt == "imagefolder":
        return [
            with_annotation(pair, {"images": [{"tags": [{"id": "t1", "classification": tag}]}]})
            for pair, tag in zip(photo_samples(photos, splits=splits), TAGS, strict=True)
        ]
    return photo_samples(photos, splits=splits, boxes_only=fmt in ("voc", "yolo"))


def everything(client: BackendClient, name: str, params: dict | None = None) -> list[dict]:
    rows, _ = getattr(client, f"list_{name}")(params, list_all=True)
    return list(rows)


def tasks_by_file(client: BackendClient, project: int) -> dict[str, dict]:
    """Each task of ``project`` by the file name its image was exported under."""
    units = {u["id"]: u for u in everything(client, "data_units")}
    return {
        Path(units[t["data_unit"]]["meta"]["file_name"]).name: t
        for t in everything(client, "tasks", {"project": project})
    }


@pytest.mark.parametrize("fmt", FOLDER_FORMATS)
def test_an_exported_folder_imports_back_with_its_annotations_and_splits(client, photos, tmp_path, fmt):
    pairs = samples_for(fmt, photos)
    export(fmt, tmp_path / fmt, pairs)
    report = import_folder(client, tmp_path / fmt, format=fmt, project="round-trip", ground_truth="gt")
    assert (report.images, report.data_units_created, report.tasks_created, report.problems) == (4, 4, 4, [])
    tasks = tasks_by_file(client, report.project)
    assert sorted(tasks) == sorted(sample.file_name for sample, _ in pairs)
    for sample, _ in pairs:
        assert geometry(tasks[sample.file_name]["data"]) == geometry(sample.annotation)
    # The folders' splits, not a seeded one, make the ground truth.
    assert report.splits == {"train": 2, "val": 1, "test": 1}
    units = {u["id"]: Path(u["meta"]["file_name"]).name for u in everything(client, "data_units")}
    events = everything(
        client, "ground_truth_events", {"ground_truth_dataset_version": report.ground_truth_version}
    )
    assert {units[e["data_unit"]]: e["split"] for e in events} == {s.file_name: s.split for s, _ in pairs}
    project = client.get_project(report.project)
    tool = "tags" if fmt == "imagefolder" else "bounding_box"
    assert {c["name"] for c in project["configuration"][tool]} >= {
        name for _, name, _ in geometry(pairs[0][0].annotation)
    }
    again = import_folder(client, tmp_path / fmt, format=fmt, project="round-trip", ground_truth="gt")
    assert (again.data_units_reused, again.tasks_reused, again.version_reused) == (4, 4, True)
    assert (again.data_units_created, again.tasks_created) == (0, 0)


def test_an_exported_coco_file_imports_back_with_its_annotations(client, photos, tmp_path):
    pairs = samples_for("coco", photos, splits=False)
    export("coco", tmp_path, pairs)
    report = import_coco(client, tmp_path / "images", tmp_path / "annotations/instances_default.json",
                         project="round-trip")  # fmt: skip
    assert (report.tasks_created, report.annotations) == (4, 8)
    tasks = tasks_by_file(client, report.project)
    for sample, _ in pairs:
        assert geometry(tasks[sample.file_name]["data"]) == geometry(sample.annotation)
    unit = everything(client, "data_units")[0]
    assert unit["meta"]["coco_image_id"] == 1  # image id = index + 1


def test_images_without_a_split_are_split_by_seed(client, photos, tmp_path):
    export("voc", tmp_path, samples_for("voc", photos, splits=False))
    report = import_folder(client, tmp_path, format="voc", project="p", ground_truth="gt", val_fraction=0.5)
    assert report.splits == {"train": 2, "val": 2}


def test_a_missing_image_is_named_with_its_id_in_the_dataset(client, photos, tmp_path):
    export("yolo", tmp_path, samples_for("yolo", photos))
    (tmp_path / "labels/val/000002.txt").rename(tmp_path / "labels/val/000009.txt")
    (tmp_path / "images/train/000001.jpg").unlink()
    (tmp_path / "images/val/000002.jpg").rename(tmp_path / "images/val/000009.jpg")
    report = import_folder(client, tmp_path, format="yolo", project="p", skip_missing=True)
    assert report.images == 3  # the deleted image is gone from the folder, the renamed one is read
    with pytest.raises(
        UsageError, match=r"unknown folder format 'yolov8'; use one of imagefolder, voc, yolo"
    ):
        import_folder(client, tmp_path, format="yolov8", project="p")
    with pytest.raises(UsageError, match="no such folder; give the yolo dataset's folder"):
        import_folder(client, tmp_path / "nowhere", format="yolo", project="p")


@pytest.mark.parametrize("fmt", FOLDER_FORMATS)
def test_the_cli_imports_a_folder(capsys, photos, tmp_path, fmt):
    export(fmt, tmp_path / "export", samples_for(fmt, photos))
    capsys.readouterr()
    args = ["data", "import", fmt, str(tmp_path / "export"), "--project", "cli", "--ground-truth", "gt"]
    with pytest.raises(SystemExit) as raised:
        main([*args, "--json"])
    out, err = capsys.readouterr()
    assert raised.value.code in (0, None), err
    report = json.loads(out)
    assert (report["tasks_created"], report["splits"]) == (4, {"train": 2, "val": 1, "test": 1})


def test_the_cli_names_the_folder_of_a_bad_dataset(capsys, tmp_path):
    capsys.readouterr()
    with pytest.raises(SystemExit) as raised:
        main(["data", "import", "voc", str(tmp_path), "--project", "cli"])
    assert raised.value.code == 2
    assert f"Error: {tmp_path}: no Annotations folder" in capsys.readouterr().err
