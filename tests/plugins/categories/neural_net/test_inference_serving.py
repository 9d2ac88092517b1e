"""``POST /inference`` of the neural_net template under ``synapse plugin run serve``, on real digits.

The server loads the registered model once (setup), answers one image, a batch (auto_label's
HTTP model shape), a data unit and a project (predictions written to its tasks), and records
every request on its serving run. auto_label then uses the same endpoint as its model source.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest

from synapse_sdk.backend.schemas import RunStatus
from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.categories.neural_net.digits import import_digits
from synapse_sdk.plugins.categories.smart_tool import AutoLabelAction
from tests.plugins.categories.neural_net.served_digits import (
    Server,
    digits_model_file,
    digits_plugin,
    held_out,
    model_module,
    png_base64,
    registered_model,
    served_digits,
)
from tests.servers import stop_process

__all__ = [  # the fixtures, imported for the tests below
    "digits_model_file", "digits_plugin", "held_out", "model_module", "registered_model", "served_digits",
]  # fmt: skip

pytestmark = pytest.mark.slow


def post(server: Server, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.url}/inference", json=body, timeout=30)


def test_the_served_model_names_digits_it_never_saw(served_digits, registered_model, held_out, store) -> None:
    images, labels = held_out
    one = post(served_digits, {"image": png_base64(images[0])})
    assert one.status_code == 200, one.text
    assert one.json()["class"] == labels[0]
    assert one.json()["model"] == registered_model["id"]
    assert set(one.json()["scores"]) == {str(c) for c in range(10)}

    batch = post(served_digits, {"images": [png_base64(image) for image in images[:100]]}).json()
    predicted = [p["class"] for p in batch["predictions"]]
    assert sum(p == t for p, t in zip(predicted, labels[:100], strict=True)) >= 85
    assert batch["labels"] == [str(c) for c in range(10)]
    assert batch["detections"][3] == [
        {"label": predicted[3], "box": [0, 0, 8, 8], "score": batch["predictions"][3]["scores"][predicted[3]]}
    ]
    assert post(served_digits, {"images": []}).json()["labels"] == batch["labels"]

    stop_process(served_digits.process)
    (run,) = store.list_runs()
    assert run.status is RunStatus.STOPPED
    assert run.metrics["requests"]["total"] == 3
    assert run.metrics["POST /inference"]["count"] >= 1
    assert any(f"loaded model {registered_model['id']}" in (e.message or "") for e in store.get_logs(run.id))


def test_bad_bodies_are_refused_naming_the_field(served_digits) -> None:
    two_forms = post(served_digits, {"image": "aGk=", "data_unit": 1})
    assert two_forms.status_code == 422
    assert "give exactly one of image, images, data_unit, project" in two_forms.text
    not_an_image = post(served_digits, {"image": "aGVsbG8="})
    assert not_an_image.status_code == 422
    assert "params.image: not an image file" in not_an_image.json()["detail"]
    unknown_model = post(served_digits, {"image": "aGk=", "model": 999})
    assert unknown_model.status_code == 422
    assert "no registered model 999" in unknown_model.json()["detail"]


@pytest.fixture
def digits_project(synapse_home: Path, tmp_path: Path) -> Any:
    """Three digits of each class imported through the platform's ImageFolder import (30 tasks)."""
    return import_digits(get_backend_client(), tmp_path / "digits", per_class=3)


def test_a_data_unit_and_a_whole_project_are_predicted(served_digits, digits_project, registered_model):
    client = get_backend_client()
    tasks = list(client.list_tasks({"project": digits_project.project}, list_all=True)[0])
    unit = post(served_digits, {"data_unit": tasks[0]["data_unit"]})
    assert unit.status_code == 200, unit.text
    file = client.get_data_unit(tasks[0]["data_unit"])["files"]
    with client.open_data_file(next(iter(file.values()))["data_file"]) as stream:
        same = post(served_digits, {"image": base64.b64encode(stream.read()).decode()})
    assert unit.json() == same.json()

    answer = post(served_digits, {"project": digits_project.project, "batch_size": 7})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "project": digits_project.project, "tasks": 30, "predicted": 30, "skipped": 0,
        "source": f"model:{registered_model['id']}", "model": registered_model["id"],
    }  # fmt: skip
    right = 0
    for task in client.list_tasks({"project": digits_project.project}, list_all=True)[0]:
        (prediction,) = task["predictions"]
        (tag,) = prediction["data"]["images"][0]["tags"]
        truth = task["data"]["images"][0]["tags"][0]["classification"]
        right += tag["classification"] == truth
        assert tag["attrs"][0]["name"] == "scores"
        assert prediction["score"] == tag["attrs"][0]["value"][tag["classification"]]
    assert right >= 24
    again = post(served_digits, {"project": digits_project.project}).json()
    assert again["predicted"] == 30
    tasks = client.list_tasks({"project": digits_project.project})["results"]
    assert all(len(task["predictions"]) == 1 for task in tasks)


def test_auto_label_uses_the_served_model_as_its_http_source(served_digits, digits_project) -> None:
    client = get_backend_client()
    units = [t["data_unit"] for t in client.list_tasks({"project": digits_project.project}, list_all=True)[0]]
    boxes = client.create_project({
        "title": "digit boxes", "data_collection": digits_project.data_collection,
        "configuration": {"bounding_box": [{"name": str(c)} for c in range(10)]},
    })  # fmt: skip
    client.create_tasks([{"project": boxes["id"], "data_unit": unit} for unit in units])
    model = {"url": f"{served_digits.url}/inference"}
    params = {"project": boxes["id"], "score_threshold": 0.0, "model": model}

    result = AutoLabelAction(params=params).run_action()

    assert result["tasks_labelled"] == 30
    for task in client.list_tasks({"project": boxes["id"]}, list_all=True)[0]:
        (box,) = task["predictions"][0]["data"]["images"][0]["bounding_box"]
        assert box["data"] == [0.0, 0.0, 8.0, 8.0]
        assert box["classification"] in {str(c) for c in range(10)}
