"""Tests of the ``export`` action, on the sample project it imports from sample_data/."""

import json
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parents[1]
PHOTOS = ["astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg"]


def plugin_files():
    """Every file in the plugin folder (but Python's caches), with its modification time."""
    return {
        path: path.stat().st_mtime_ns
        for path in PLUGIN_DIR.rglob("*")
        if path.is_file() and not {"__pycache__", ".pytest_cache"} & set(path.parts)
    }


def test_export_writes_a_record_and_the_original_of_each_annotated_image(synapse_run):
    run = synapse_run("export")

    assert run.succeeded
    out = Path(run.result["export_path"])
    assert out.parts[-2:] == ("exports", "sample_export")
    # camera.jpg has no boxes: skipped.
    assert (run.result["success"], run.result["skipped"], run.result["failed"]) == (4, 1, 0)
    record = json.loads((out / "json" / "astronaut.json").read_text())
    assert (record["image"], record["width"], record["height"]) == ("astronaut.jpg", 102, 102)
    assert [o["class"] for o in record["objects"]] == ["face", "helmet", "rocket"]
    assert sorted(p.name for p in (out / "origin_files").iterdir()) == PHOTOS
    original = (out / "origin_files" / "rocket.jpg").read_bytes()
    assert original == (PLUGIN_DIR / "sample_data" / "images" / "rocket.jpg").read_bytes()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objects"] == {"cup": 1, "eye": 2, "face": 1, "helmet": 1, "rocket": 2, "spoon": 1}
    assert run.progress["dataset_conversion"]["percent"] == 100
    assert run.metrics["objects"]["eye"] == 2


def test_a_dataset_format_and_a_second_export_beside_the_first(synapse_run):
    first = synapse_run("export", {"extra_params": {"output_format": "coco"}})
    second = synapse_run("export", {"extra_params": {"output_format": "coco"}})

    out = Path(first.result["export_path"])
    coco = json.loads((out / "annotations" / "instances_train.json").read_text())
    assert [c["name"] for c in coco["categories"]][:3] == ["face", "helmet", "rocket"]
    assert second.result["export_path"] == f"{out}(1)"


def test_a_dry_run_writes_nothing(synapse_run):
    plan = synapse_run("export", {"dry_run": True}).result

    assert (plan["items"], plan["output_format"]) == (5, "json")
    assert not Path(plan["export_path"]).exists()


def test_export_refuses_paths_outside_the_storage(synapse_run):
    run = synapse_run("export", {"path": "../../etc"}, check=False)

    assert run.status == "FAILED"
    assert "leaves the storage root" in run.error


def test_export_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("export")

    assert plugin_files() == before
