"""Tests of the ``tune`` action."""


def test_tune_keeps_the_best_trial(synapse_run):
    run = synapse_run("tune", {"trials": 4, "max_epochs": 10, "seed": 1})

    assert run.succeeded
    losses = run.metric_values("tuning", "loss")
    assert len(losses) == 4
    assert run.result["best"]["loss"] == min(losses)
    assert run.progress["tuning"]["current"] == 4
