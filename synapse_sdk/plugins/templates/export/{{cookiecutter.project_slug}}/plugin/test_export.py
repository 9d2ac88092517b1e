"""Tests of the ``export`` action, using the sample items in sample_data/."""

import json

SAMPLE = {"filter": {"source": "sample_data/ground_truth.json"}, "target": "ground_truth", "path": "exports"}


def test_export_writes_coco_files_and_originals(synapse_run, tmp_path):
    run = synapse_run("export", {**SAMPLE, "name": "demo", "storage": str(tmp_path)})

    assert run.succeeded
    out = tmp_path / "exports" / "demo"
    assert run.result["export_path"] == str(out)
    assert (run.result["success"], run.result["skipped"], run.result["failed"]) == (3, 1, 0)
    coco = json.loads((out / "json" / "street_001.json").read_text())
    assert coco["annotation_count"] == len(coco["annotations"]) == 2
    assert {c["name"] for c in coco["categories"]} == {"car", "person"}
    assert sorted(p.name for p in (out / "origin_files").iterdir()) == [
        "park_003.png",
        "street_001.png",
        "street_002.png",
    ]
    assert run.progress["dataset_conversion"]["percent"] == 100
    assert [e["status"] for e in run.events("export_file")] == ["success"] * 3
    assert run.metrics["labels"]["car"] == 3


def test_a_second_export_gets_a_new_folder(synapse_run, tmp_path):
    params = {**SAMPLE, "name": "demo", "storage": str(tmp_path), "save_original_file": False}
    first = synapse_run("export", params)
    second = synapse_run("export", params)

    assert second.result["export_path"] == first.result["export_path"] + "(1)"


def test_export_refuses_paths_outside_the_storage(synapse_run, tmp_path):
    run = synapse_run(
        "export", {**SAMPLE, "name": "x", "storage": str(tmp_path), "path": "../../etc"}, check=False
    )

    assert run.status == "FAILED"
    assert "leaves the storage root" in run.error
