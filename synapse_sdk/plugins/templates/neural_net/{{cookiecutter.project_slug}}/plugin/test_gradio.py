"""Tests of the ``gradio`` action without serving the page (a browser test lives in the SDK's tests)."""

from .test_inference import encoded_digits


def test_gradio_builds_the_page_and_predicts_as_inference_does(synapse_run, trained, tmp_path):
    image = encoded_digits(tmp_path)[1]
    run = synapse_run("gradio", {"image": image})
    served = synapse_run("inference", {"image": image})

    assert run.succeeded
    assert run.result["launched"] is False
    assert run.result["model"] == trained.result["model"]
    assert (run.result["class"], run.result["scores"]) == (served.result["class"], served.result["scores"])
    assert run.progress["interface"]["percent"] == 100
