"""Tests of the ``inference`` action."""


def test_inference_separates_the_two_clusters(synapse_run):
    run = synapse_run("inference", {"inputs": [[0.1, 0.3], [2.7, 2.4], [3.0, 3.1]]})

    assert run.succeeded
    assert [p["label"] for p in run.result["predictions"]] == [0, 1, 1]
    assert run.metrics["inference"] == {"count": 3, "positive": 2}
    assert run.progress["inference"]["percent"] == 100


def test_inference_threshold_changes_labels(synapse_run):
    point = [1.6, 1.6]
    low = synapse_run("inference", {"inputs": [point], "threshold": 0.01})
    high = synapse_run("inference", {"inputs": [point], "threshold": 0.99})

    assert low.result["predictions"][0]["label"] == 1
    assert high.result["predictions"][0]["label"] == 0
