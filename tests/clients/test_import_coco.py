"""``import_coco``: a COCO set of real photos becomes data units, tasks and a frozen ground-truth version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from synapse_sdk.clients.backend import BackendClient, get_backend_client
from synapse_sdk.clients.backend.imports import PHASES, import_coco, split_items
from synapse_sdk.errors import AnnotationError, ResourceNotFound, UsageError
from tests.clients.samples import COCO, write_samples


@pytest.fixture(scope="module")
def sample_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The four photos and their COCO file, written once for the module (tests copy what they change)."""
    return write_samples(tmp_path_factory.mktemp("samples"))


@pytest.fixture
def samples(sample_set: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the sample set."""
    images = tmp_path / "set" / "images"
    shutil.copytree(sample_set[0], images)
    coco = shutil.copy(sample_set[1], tmp_path / "set" / "instances.json")
    return images, Path(coco)


@pytest.fixture
def client() -> BackendClient:
    """The embedded platform under the test's SYNAPSE_HOME."""
    return get_backend_client()


def everything(client: BackendClient, name: str, params: dict | None = None) -> list[dict]:
    rows, count = getattr(client, f"list_{name}")(params, list_all=True)
    rows = list(rows)
    assert len(rows) == count
    return rows


def tasks_by_image(client: BackendClient, project: int) -> dict[int, dict]:
    """Each task of ``project`` by the COCO image id its data unit came from."""
    units = {u["id"]: u for u in everything(client, "data_units")}
    return {
        units[t["data_unit"]]["meta"]["coco_image_id"]: t
        for t in everything(client, "tasks", {"project": project})
    }


def assert_tasks_carry_the_coco_file(client: BackendClient, project: int, coco_path: Path) -> None:
    """Every COCO annotation is in its image's task: same class, same box, same polygon points."""
    names = {c["id"]: c["name"] for c in COCO["categories"]}
    tasks = tasks_by_image(client, project)
    assert sorted(tasks) == [image["id"] for image in COCO["images"]]
    boxes = {
        b["id"]: (b, image_id)
        for image_id, t in tasks.items()
        for b in t["data"]["images"][0]["bounding_box"]
    }
    assert len(boxes) == len(COCO["annotations"])
    for ann in COCO["annotations"]:
        box, image_id = boxes[f"b{ann['id']}"]
        assert image_id == ann["image_id"]
        assert box["classification"] == names[ann["category_id"]]
        assert box["data"] == ann["bbox"]
    spoon = next(p for p in tasks[3]["data"]["images"][0]["polygon"] if p["id"] == "p7-0")
    flat = COCO["annotations"][6]["segmentation"][0]
    assert spoon["data"] == [flat[i : i + 2] for i in range(0, len(flat), 2)]
    try:
        from pycocotools.coco import COCO as Oracle
    except ImportError:  # the oracle is a dev extra; the file's own boxes were checked above
        return
    oracle = Oracle(str(coco_path))
    for image_id, task in tasks.items():
        expected = sorted(a["bbox"] for a in oracle.loadAnns(oracle.getAnnIds(imgIds=[image_id])))
        assert sorted(b["data"] for b in task["data"]["images"][0]["bounding_box"]) == expected


def test_every_annotation_lands_in_a_task_with_its_coordinates(client, samples):
    images, coco = samples
    report = import_coco(client, images, coco, project="photos")
    assert (report.images, report.uploaded, report.annotations) == (4, 4, len(COCO["annotations"]))
    assert (report.data_units_created, report.tasks_created) == (4, 4)
    assert (report.skipped, report.duplicates, report.problems) == (0, 0, [])
    assert_tasks_carry_the_coco_file(client, report.project, coco)
    project = client.get_project(report.project)
    assert project["title"] == "photos"
    assert [c["name"] for c in project["configuration"]["bounding_box"]] == [
        c["name"] for c in COCO["categories"]
    ]
    collection = client.get_data_collection(project["data_collection"])
    assert collection["file_specifications"][0]["name"] == "image"
    assert collection["file_specifications"][0]["file_type"] == "image"
    for unit in everything(client, "data_units"):
        data_file = client.get_data_file(unit["files"]["image"]["data_file"])
        image = next(i for i in COCO["images"] if i["id"] == unit["meta"]["coco_image_id"])
        assert (data_file["meta"]["width"], data_file["meta"]["height"]) == (image["width"], image["height"])
        with client.open_data_file(data_file["id"]) as stored:
            assert stored.read() == (images / image["file_name"]).read_bytes()


def test_running_it_again_creates_nothing_twice_and_leaves_tasks_as_they_are(client, samples):
    images, coco = samples
    first = import_coco(client, images, coco, project="photos")
    task = everything(client, "tasks")[0]
    client.update_task(task["id"], {"status": "completed", "data": {"classification": {}, "images": []}})
    again = import_coco(client, images, coco, project="photos")
    assert (again.data_units_created, again.data_units_reused) == (0, 4)
    assert (again.tasks_created, again.tasks_reused) == (0, 4)
    assert (again.project, again.data_collection) == (first.project, first.data_collection)
    assert len(everything(client, "data_units")) == 4
    assert len(everything(client, "tasks")) == 4
    assert client.backend.resource("data_files").count() == 4
    kept = client.get_task(task["id"])
    assert (kept["status"], kept["data"]) == ("completed", {"classification": {}, "images": []})
    assert len(everything(client, "projects")) == len(everything(client, "data_collections")) == 1


def test_a_ground_truth_version_is_frozen_with_a_seeded_split(client, samples):
    images, coco = samples
    report = import_coco(
        client, images, coco, project="photos", ground_truth="photos-gt", val_fraction=0.25, seed=7
    )
    version = client.get_ground_truth_version(report.ground_truth_version)
    assert (version["version"], version["is_frozen"]) == ("1", True)
    assert report.splits == {"train": 3, "val": 1}
    events = everything(client, "ground_truth_events", {"ground_truth_dataset_version": version["id"]})
    units = {u["id"]: u for u in everything(client, "data_units")}
    tasks = {t["data_unit"]: t for t in everything(client, "tasks")}
    assert sorted(e["data_unit"] for e in events) == sorted(units)
    for event in events:
        assert event["data"] == tasks[event["data_unit"]]["data"]
    ordered = sorted(events, key=lambda e: e["data_unit"])
    expected = split_items([units[e["data_unit"]]["checksum"] for e in ordered], 0.25, seed=7)
    assert [e["split"] for e in ordered] == expected
    # The same import again finds that version; another split makes the next one.
    again = import_coco(
        client, images, coco, project="photos", ground_truth="photos-gt", val_fraction=0.25, seed=7
    )
    assert (again.ground_truth_version, again.version_reused) == (report.ground_truth_version, True)
    other = import_coco(
        client, images, coco, project="photos", ground_truth="photos-gt", val_fraction=0.5, seed=7
    )
    assert (other.version, other.splits, other.version_reused) == ("2", {"train": 2, "val": 2}, False)
    assert client.get_ground_truth_version(other.ground_truth_version)["is_frozen"]


def test_the_split_depends_on_the_items_and_the_seed_only():
    sums = [f"{n:064x}" for n in range(100)]
    split = split_items(sums, 0.2, seed=3)
    assert split.count("val") == 20
    reordered = split_items(sums[::-1], 0.2, seed=3)
    assert reordered[::-1] == split
    assert split_items(sums, 0.2, seed=4) != split
    assert split_items(sums, 0.0) == ["train"] * 100


def test_missing_image_files_are_refused_up_front_naming_each(client, samples):
    images, coco = samples
    (images / "chelsea.jpg").unlink()
    (images / "rocket.jpg").unlink()
    with pytest.raises(UsageError) as raised:
        import_coco(client, images, coco, project="photos")
    lines = str(raised.value).splitlines()
    assert lines[0] == f"{images / 'chelsea.jpg'}: no such file (COCO image 2)"
    assert lines[1] == f"{images / 'rocket.jpg'}: no such file (COCO image 4)"
    assert lines[2] == (
        f"2 of 4 image files are missing from {images}; nothing was imported "
        "(skip_missing=True, or --skip-missing, imports the other 2)"
    )
    assert everything(client, "projects") == []
    assert everything(client, "data_units") == []


def test_missing_image_files_can_be_skipped_and_counted(client, samples):
    images, coco = samples
    (images / "chelsea.jpg").unlink()
    report = import_coco(client, images, coco, project="photos", skip_missing=True, ground_truth="gt")
    assert (report.images, report.skipped, report.tasks_created) == (4, 1, 3)
    assert report.annotations == len(COCO["annotations"]) - 2
    assert report.problems == [f"skipped {images / 'chelsea.jpg'}: no such file (COCO image 2)"]
    assert sorted(tasks_by_image(client, report.project)) == [1, 3, 4]
    assert sum(report.splits.values()) == 3
    assert "1 skipped (file missing)" in report.summary()


def test_a_broken_annotation_refuses_the_import_naming_the_annotation(client, samples, tmp_path):
    images, _ = samples
    document = json.loads(json.dumps(COCO))
    document["annotations"][4]["bbox"] = [295, 108, 0, 55]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    with pytest.raises(AnnotationError) as raised:
        import_coco(client, images, broken, project="photos")
    first = str(raised.value).splitlines()[0]
    assert first.startswith(f"{broken}: annotation 5: bbox: expected [x, y, width, height]")
    assert everything(client, "projects") == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"annotations": []}', "not a COCO file: expected an object with an 'images' list"),
    ],
    ids=["not-json", "no-images"],
)
def test_an_unreadable_coco_file_is_refused(client, samples, tmp_path, change, message):
    bad = tmp_path / "bad.json"
    bad.write_text(change)
    with pytest.raises(AnnotationError, match=message):
        import_coco(client, samples[0], bad, project="photos")


def test_bad_arguments_are_refused_before_anything_is_written(client, samples, tmp_path):
    images, coco = samples
    with pytest.raises(UsageError, match="no such folder"):
        import_coco(client, tmp_path / "nowhere", coco, project="photos")
    with pytest.raises(UsageError, match="val_fraction: expected a number from 0 to below 1"):
        import_coco(client, images, coco, project="photos", val_fraction=1.5)
    with pytest.raises(ResourceNotFound, match="storage 99"):
        import_coco(client, images, coco, project="photos", storage=99)
    outside = json.loads(json.dumps(COCO))
    outside["images"][0]["file_name"] = "../astronaut.jpg"
    (tmp_path / "outside.json").write_text(json.dumps(outside))
    with pytest.raises(AnnotationError, match="image 1: file_name '../astronaut.jpg' is outside"):
        import_coco(client, images, tmp_path / "outside.json", project="photos")
    assert everything(client, "projects") == []


def test_two_images_with_the_same_bytes_make_one_data_unit_and_task(client, samples, tmp_path):
    images, _ = samples
    shutil.copy(images / "rocket.jpg", images / "rocket-copy.jpg")
    document = json.loads(json.dumps(COCO))
    document["images"].append({"id": 5, "file_name": "rocket-copy.jpg", "width": 640, "height": 427})
    (tmp_path / "dup.json").write_text(json.dumps(document))
    report = import_coco(client, images, tmp_path / "dup.json", project="photos")
    assert (report.duplicates, report.data_units_created, report.tasks_created) == (1, 4, 4)
    assert "same bytes as rocket.jpg" in report.problems[0]


def test_a_named_storage_and_collection_are_used(client, samples, tmp_path):
    images, coco = samples
    storage = client.create_storage(
        {"name": "second", "provider": "local", "configuration": {"root": str(tmp_path / "s2")}}
    )
    report = import_coco(client, images, coco, project="photos", collection="street", storage=storage["id"])
    assert client.get_data_collection(report.data_collection)["name"] == "street"
    unit = everything(client, "data_units")[0]
    assert client.get_data_file(unit["files"]["image"]["data_file"])["storage"] == storage["id"]
    assert len(list((tmp_path / "s2").rglob("*.jpg"))) == 4
    with pytest.raises(UsageError, match="project 'photos' works on data collection 'street', not 'other'"):
        import_coco(client, images, coco, project="photos", collection="other")


def test_progress_goes_through_the_phases_to_their_totals(client, samples):
    images, coco = samples
    calls: list[tuple[str, int, int]] = []
    import_coco(client, images, coco, project="photos", ground_truth="gt", batch_size=3,
                progress=lambda *call: calls.append(call))  # fmt: skip
    assert list(dict.fromkeys(c[0] for c in calls)) == list(PHASES)
    for phase in PHASES:
        done = [d for p, d, _ in calls if p == phase]
        assert done[0] == 0 and done[-1] == 4 and done == sorted(done)
    assert ("tasks", 3, 4) in calls  # batches of 3: tasks exist before the last image is uploaded
    assert calls.index(("tasks", 3, 4)) < calls.index(("upload", 4, 4))


def test_the_same_import_over_http(backend_server, samples):
    images, coco = samples
    client = BackendClient(backend_server.url, access_token=backend_server.token)
    try:
        report = import_coco(client, images, coco, project="photos", ground_truth="gt", batch_size=2)
        assert (report.data_units_created, report.tasks_created, report.splits) == (
            4,
            4,
            {"train": 3, "val": 1},
        )
        assert_tasks_carry_the_coco_file(client, report.project, coco)
        again = import_coco(client, images, coco, project="photos", ground_truth="gt", batch_size=2)
        assert (again.data_units_reused, again.tasks_reused, again.version_reused) == (4, 4, True)
        assert len(everything(client, "tasks")) == 4
    finally:
        client.backend.close()


def test_an_open_version_left_by_a_killed_import_is_completed_and_frozen(client, samples):
    images, coco = samples
    first = import_coco(client, images, coco, project="photos")
    units = everything(client, "data_units")
    split = dict(zip((u["id"] for u in units), split_items([u["checksum"] for u in units], 0.2), strict=True))
    tasks = {t["data_unit"]: t for t in everything(client, "tasks")}
    # What an import killed between adding the events and freezing the version leaves behind.
    dataset = client.create_ground_truth_dataset({"name": "gt", "project": first.project})
    version = client.create_ground_truth_version(dataset["id"], "1")
    done = units[:2]
    client.add_ground_truth_events(
        version["id"],
        [{"data_unit": u["id"], "data": tasks[u["id"]]["data"], "split": split[u["id"]]} for u in done],
    )
    report = import_coco(client, images, coco, project="photos", ground_truth="gt")
    assert (report.ground_truth_version, report.version, report.version_reused) == (version["id"], "1", False)
    assert client.get_ground_truth_version(version["id"])["is_frozen"]
    events = everything(client, "ground_truth_events", {"ground_truth_dataset_version": version["id"]})
    assert sorted((e["data_unit"], e["split"]) for e in events) == sorted(split.items())
    assert len(everything(client, "ground_truth_versions")) == 1


def test_an_image_whose_size_differs_from_the_coco_file_is_reported(client, samples, tmp_path):
    images, _ = samples
    document = json.loads(json.dumps(COCO))
    document["images"][1]["width"] = 450
    (tmp_path / "size.json").write_text(json.dumps(document))
    report = import_coco(client, images, tmp_path / "size.json", project="photos")
    assert report.problems == [
        f"{images / 'chelsea.jpg'}: the file is 451x300, COCO image 2 says 450x300; "
        "its boxes may not fit the image"
    ]
    assert report.tasks_created == 4


def test_images_a_collection_does_not_take_are_refused_before_anything_is_created(client, samples):
    images, coco = samples
    client.create_data_collection(
        {
            "name": "pngs",
            "file_specifications": [{"name": "image", "file_type": "image", "extensions": [".png"]}],
        }
    )
    with pytest.raises(UsageError) as raised:
        import_coco(client, images, coco, project="photos", collection="pngs")
    lines = str(raised.value).splitlines()
    assert lines[0] == f"{images / 'astronaut.jpg'}: a .jpg file (COCO image 1)"
    assert (
        lines[-1] == "4 image(s) cannot go in; data collection 'pngs' takes .png images; nothing was imported"
    )
    assert everything(client, "projects") == []
    assert client.backend.resource("data_files").count() == 0
