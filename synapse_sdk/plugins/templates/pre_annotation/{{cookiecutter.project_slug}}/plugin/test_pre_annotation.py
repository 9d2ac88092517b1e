"""Tests of the ``pre_annotation`` action, using the sample files in sample_data/raw."""

import json


def test_pre_annotation_drops_duplicates_and_other_types(synapse_run, tmp_path):
    output = tmp_path / "units.json"
    run = synapse_run("pre_annotation", {"output_path": str(output)})

    assert run.succeeded
    manifest = json.loads(output.read_text())
    assert [u["file"] for u in manifest["data_units"]] == [
        "batch_2/frame_001_copy.txt",
        "batch_2/frame_004.txt",
        "frame_002.txt",
        "frame_003.txt",
    ]
    assert manifest["duplicates"] == [{"file": "frame_001.txt", "same_as": "batch_2/frame_001_copy.txt"}]
    assert manifest["ignored"] == ["README.md"]
    assert run.metrics["preprocessing"] == {"data_units": 4, "duplicates": 1, "ignored": 1}
    assert any("duplicate" in m for m in run.messages)
