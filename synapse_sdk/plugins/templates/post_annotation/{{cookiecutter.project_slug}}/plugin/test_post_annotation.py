"""Tests of the ``post_annotation`` action, using sample_data/annotations.json."""

import json


def test_post_annotation_votes_and_flags(synapse_run, tmp_path):
    output = tmp_path / "reviewed.json"
    run = synapse_run("post_annotation", {"output_path": str(output)})

    assert run.succeeded
    reviewed = {r["task"]: r for r in json.loads(output.read_text())}
    assert reviewed["t1"] == {"task": "t1", "label": "car", "agreement": 1.0, "status": "accepted"}
    assert reviewed["t2"]["label"] == "person"
    assert reviewed["t3"]["status"] == "needs_review"
    assert run.metrics["review"]["needs_review"] == run.result["needs_review"] == 2
    assert run.progress["review"]["percent"] == 100


def test_a_lower_bar_accepts_more(synapse_run, tmp_path):
    run = synapse_run("post_annotation", {"min_agreement": 0.3, "output_path": str(tmp_path / "r.json")})

    assert run.result["accepted"] == 5
