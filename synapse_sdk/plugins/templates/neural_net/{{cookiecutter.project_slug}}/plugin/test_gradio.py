"""Tests of the ``gradio`` action (without launching a server)."""


def test_gradio_checks_its_predict_function(synapse_run):
    run = synapse_run("gradio", {"example": [0.1, 0.2]})

    assert run.succeeded
    assert run.result["prediction"]["label"] == 0
    assert run.result["launched"] is False
    assert run.progress["interface"]["percent"] == 100
    assert run.metrics["performance"]["prediction_ms"] >= 0
