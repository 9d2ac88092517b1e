"""Tests of the ``test`` action: a model registered by a train run, measured on the test split."""

from PIL import Image


def test_test_measures_the_model_a_train_run_registered(synapse_run, trained):
    run = synapse_run("test", {"run": trained.id})

    assert run.succeeded
    assert run.result["model"] == trained.result["model"]
    assert run.metrics["test"]["accuracy"] == run.result["accuracy"]
    assert run.metrics["test"]["images"] == 20  # 2 of each digit's 8 images are test images
    assert set(run.result["per_class"]) == {str(d) for d in range(10)}
    matrix = run.result["confusion_matrix"]
    assert sum(map(sum, matrix)) == 20
    assert sum(matrix[i][i] for i in range(10)) == round(20 * run.result["accuracy"])
    picture = run.folder / "confusion_matrix.png"
    assert run.events("artifact") == [
        {"name": "confusion_matrix", "path": str(picture), "mime_type": "image/png"}
    ]
    with Image.open(picture) as image:
        assert image.format == "PNG"


def test_test_takes_the_newest_model_by_default_and_a_model_by_id(synapse_run, trained):
    newest = synapse_run("test")
    by_id = synapse_run("test", {"model": trained.result["model"], "split": "val"})

    assert newest.result["model"] == trained.result["model"]
    assert by_id.metrics["test"]["images"] == 10


def test_test_fails_clearly_without_a_model(synapse_run, digits):
    run = synapse_run("test", {"model": 99}, check=False)

    assert run.status == "FAILED"
    assert "no registered model 99" in run.error
