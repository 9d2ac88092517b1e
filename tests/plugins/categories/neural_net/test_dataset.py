"""Reading a frozen ground-truth version for training: images and image-level labels per split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from synapse_sdk.clients.backend import BackendClient, get_backend_client
from synapse_sdk.clients.backend.imports import ImportReport
from synapse_sdk.errors import ParamsError
from synapse_sdk.plugins.categories.neural_net.dataset import event_label, load_ground_truth, normalize_splits
from synapse_sdk.plugins.categories.neural_net.digits import import_digits


@pytest.fixture
def digits(tmp_path: Path) -> ImportReport:
    """Five images of each digit in the test's platform: 3 train, 1 val and 1 test image each."""
    return import_digits(get_backend_client(), tmp_path / "digits", per_class=5)


def test_a_dataset_id_reads_its_newest_frozen_version(digits: ImportReport, tmp_path: Path) -> None:
    truth = load_ground_truth(
        get_backend_client(), digits.ground_truth_dataset, {"fit": "train", "check": "test"}
    )

    assert truth.version["id"] == digits.ground_truth_version
    assert truth.classes == [str(d) for d in range(10)]
    assert {role: len(items) for role, items in truth.splits.items()} == {"fit": 30, "check": 10}
    image, label = truth.splits["check"][0]
    assert (image.mode, image.size) == ("L", (8, 8))
    on_disk = []
    for path in (tmp_path / "digits" / "test" / label).iterdir():
        with Image.open(path) as disk:
            on_disk.append(disk.tobytes())
    assert image.tobytes() in on_disk
    assert truth.label_ids("check") == [int(x) for x in truth.labels("check")]
    assert truth.describe()["images"] == {"fit": 30, "check": 10}


def test_a_name_or_a_version_id_name_the_same_data(digits: ImportReport) -> None:
    client = get_backend_client()
    by_name = load_ground_truth(client, "digits", ["val"])
    by_version = load_ground_truth(client, {"version": digits.ground_truth_version}, ["val"])

    assert by_name.labels("val") == by_version.labels("val")
    assert len(by_name.images("val")) == 10


def test_splits_as_a_list_or_a_mapping() -> None:
    assert normalize_splits(["train", "val"]) == {"train": "train", "val": "val"}
    assert normalize_splits({"train": "test"}) == {"train": "test"}


@pytest.mark.parametrize(
    ("dataset", "splits", "message"),
    [
        (99, ["train"], "no ground-truth dataset 99"),
        ("cats", ["train"], "no ground-truth dataset 'cats'"),
        ({"version": 99}, ["train"], "no ground-truth version 99"),
        ({"id": 1}, ["train"], "expected {'version': <id>}"),
        ("digits", {"train": "holdout"}, "params.splits.train: version 1 has no images in split 'holdout'"),
    ],
    ids=["unknown-id", "unknown-name", "unknown-version", "bad-shape", "unknown-split"],
)
def test_what_cannot_be_read_is_a_params_error(
    digits: ImportReport, dataset: Any, splits: Any, message: str
) -> None:
    with pytest.raises(ParamsError, match=message.replace("{", r"\{").replace("}", r"\}")):
        load_ground_truth(get_backend_client(), dataset, splits)


def test_an_open_version_is_refused(digits: ImportReport) -> None:
    client = get_backend_client()
    version = client.create_ground_truth_version(digits.ground_truth_dataset, "2")

    with pytest.raises(ParamsError, match=f"version {version['id']} is not frozen"):
        load_ground_truth(client, {"version": version["id"]}, ["train"])
    # The dataset's newest *frozen* version is still the one to read.
    assert load_ground_truth(client, "digits", ["test"]).version["id"] == digits.ground_truth_version


def test_a_dataset_without_a_frozen_version_says_how_to_make_one() -> None:
    client = get_backend_client()
    client.create_ground_truth_dataset({"name": "empty"})

    with pytest.raises(ParamsError, match="has no frozen version; import one"):
        load_ground_truth(client, "empty", ["train"])


def test_an_image_needs_exactly_one_tag() -> None:
    tagged = {"id": 4, "data": {"images": [{"tags": [{"id": "t1", "classification": "7"}]}]}}
    assert event_label(tagged) == "7"
    with pytest.raises(ParamsError, match="ground-truth event 5: expected one image-level tag"):
        event_label({"id": 5, "data": {"images": [{"bounding_box": []}]}})


def test_the_same_reading_over_http(backend_server: Any, tmp_path: Path) -> None:
    client = BackendClient(backend_server.url, access_token=backend_server.token)
    try:
        import_digits(client, tmp_path / "digits", per_class=3)
        truth = load_ground_truth(client, "digits", ["train", "test"])
    finally:
        client.backend.close()

    assert len(truth.images("train")) == 10  # 3 per class: 1 val, 1 test, 1 train
    assert sorted(truth.labels("test")) == [str(d) for d in range(10)]
