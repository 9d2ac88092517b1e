"""Tests of the ``inference`` action: the model a train run registered, on digits it was not trained on."""

import base64


def encoded_digits(tmp_path, count=5):
    """The first test-split PNGs the ``digits`` fixture wrote, base64-encoded as a request carries them."""
    files = sorted((tmp_path / "digits" / "test").rglob("*.png"))[:count]
    return [base64.b64encode(file.read_bytes()).decode("ascii") for file in files]


def test_inference_names_a_class_with_every_score(synapse_run, trained, tmp_path):
    run = synapse_run("inference", {"image": encoded_digits(tmp_path)[0]})

    assert run.succeeded
    assert run.result["model"] == trained.result["model"]
    scores = run.result["scores"]
    assert set(scores) == {str(d) for d in range(10)}
    assert run.result["class"] == max(scores, key=scores.get)
    assert abs(sum(scores.values()) - 1) < 1e-3


def test_a_batch_answers_like_an_auto_label_model(synapse_run, trained, tmp_path):
    images = encoded_digits(tmp_path)
    batch = synapse_run("inference", {"images": images}).result
    alone = synapse_run("inference", {"image": images[2]}).result

    assert len(batch["predictions"]) == 5
    assert batch["predictions"][2]["class"] == alone["class"]
    assert batch["labels"] == [str(d) for d in range(10)]
    label = alone["class"]
    assert batch["detections"][2] == [{"label": label, "box": [0, 0, 8, 8], "score": alone["scores"][label]}]


def test_a_project_gets_a_prediction_on_every_task(synapse_run, synapse_client, trained, digits):
    run = synapse_run("inference", {"project": digits.project})

    assert run.result["predicted"] == 80
    assert run.progress["inference"]["percent"] == 100
    tasks, _ = synapse_client.list_tasks({"project": digits.project}, list_all=True)
    (prediction,) = next(iter(tasks))["predictions"]
    assert prediction["source"] == f"model:{trained.result['model']}"
    (tag,) = prediction["data"]["images"][0]["tags"]
    assert prediction["score"] == tag["attrs"][0]["value"][tag["classification"]]


def test_a_request_that_is_not_an_image_fails_naming_the_field(synapse_run, trained):
    run = synapse_run("inference", {"image": "bm90IGFuIGltYWdl"}, check=False)

    assert run.status == "FAILED"
    assert "params.image: not an image file" in run.error


def test_without_a_registered_model_it_says_to_train_one(synapse_run, digits, tmp_path):
    run = synapse_run("inference", {"image": encoded_digits(tmp_path)[0]}, check=False)

    assert run.status == "FAILED"
    assert "has registered no model yet" in run.error
