"""YOLO written from DM v2, checked by datumaro's reader, and read back by ``read_yolo``."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from synapse_sdk.errors import AnnotationError
from synapse_sdk.formats import read_yolo
from tests.formats.exports import CLASSES, boxes, export, geometry, photo_samples, with_annotation


def datumaro_items(root: Path) -> tuple[list[str], dict[str, tuple[str, int, int, list]]]:
    """datumaro's view of a YOLO folder: its label names, and each item's subset, size and boxes."""
    import datumaro
    from datumaro.components.annotation import AnnotationType

    dataset = datumaro.Dataset.import_from(str(root), "yolo")
    labels = [label.name for label in dataset.categories()[AnnotationType.label].items]
    items = {}
    for item in dataset:
        height, width = item.media.size
        found = sorted((labels[a.label], tuple(a.get_bbox())) for a in item.annotations)
        items[item.id] = (item.subset, width, height, found)
    return labels, items


@pytest.mark.parametrize("splits", [True, False], ids=["splits", "no-splits"])
def test_datumaro_reads_the_boxes_written(tmp_path, photos, splits):
    pairs = photo_samples(photos, splits=splits, boxes_only=True)
    export("yolo", tmp_path, pairs)
    labels, items = datumaro_items(tmp_path)
    assert labels == CLASSES
    assert len(items) == len(pairs) == 4
    for sample, _ in pairs:
        subset, width, height, found = items[Path(sample.file_name).stem]
        assert (subset, width, height) == (sample.split or "default", sample.width, sample.height)
        assert [name for name, _ in found] == [name for name, _ in boxes(sample.annotation)]
        for (_, got), (_, want) in zip(found, boxes(sample.annotation), strict=True):
            assert got == pytest.approx(want, abs=0.01)


def test_data_yaml_names_the_split_folders_and_the_classes(tmp_path, photos):
    export("yolo", tmp_path, photo_samples(photos))
    assert yaml.safe_load((tmp_path / "data.yaml").read_text()) == {
        "path": str(tmp_path.resolve()),
        "train": "images/train",
        "val": "images/val",
        "test": "images/test",
        "nc": 6,
        "names": dict(enumerate(CLASSES)),
    }
    assert sorted(p.relative_to(tmp_path / "labels").as_posix() for p in tmp_path.rglob("*.txt")) == [
        "test/000003.txt", "train/000000.txt", "train/000001.txt", "val/000002.txt",
    ]  # fmt: skip
    flat = tmp_path / "flat"
    export("yolo", flat, photo_samples(photos, splits=False))
    document = yaml.safe_load((flat / "data.yaml").read_text())
    assert (document["train"], document["val"], "test" in document) == ("images", "images", False)


def test_boxes_round_trip_through_read_yolo(tmp_path, photos):
    pairs = photo_samples(photos, boxes_only=True)
    export("yolo", tmp_path, pairs)
    dataset = read_yolo(tmp_path)
    assert (dataset.format, len(dataset), dataset.category_names) == ("YOLO", 4, CLASSES)
    read = {Path(image.file_name).name: image for image in dataset}
    for sample, _ in pairs:
        image = read[sample.file_name]
        assert image.file_name == f"images/{sample.split}/{sample.file_name}"
        assert (image.split, image.width, image.height) == (sample.split, sample.width, sample.height)
        assert geometry(image.annotation) == geometry(sample.annotation)


def test_a_sample_with_polygons_writes_polygon_rows_only(tmp_path, photos):
    coffee = photo_samples(photos)[2]  # the cup's box, the spoon's box and outline in one group
    export("yolo", tmp_path, [coffee])
    rows = (tmp_path / "labels/val/000002.txt").read_text().splitlines()
    assert [len(row.split()) for row in rows] == [9, 15]  # the cup as 4 corners, the spoon's 7 points
    (image,) = read_yolo(tmp_path)
    spoon = coffee[0].annotation.images[0].polygon[0]
    assert geometry(image.annotation) == sorted(
        [
            ("polygon", "cup", (172.0, 15.0, 412.0, 15.0, 412.0, 305.0, 172.0, 305.0)),
            ("polygon", "spoon", tuple(v for point in spoon.data for v in point)),
        ]
    )


def test_polygons_alone_round_trip(tmp_path, photos):
    data = {"images": [{"polygon": [
        {"id": "p1", "classification": "cup", "data": [[10.5, 20], [200, 20.25], [150, 300]]},
        {"id": "p2", "classification": "spoon", "data": [[0, 0], [600, 0], [600, 400], [0, 400]]},
    ]}]}  # fmt: skip
    pair = with_annotation(photo_samples(photos)[2], data)
    export("yolo", tmp_path, [pair])
    (image,) = read_yolo(tmp_path)
    assert geometry(image.annotation) == geometry(pair[0].annotation)


def test_boxes_are_cut_to_the_image_and_a_box_outside_it_is_left_out(tmp_path, photos):
    data = {"images": [{"bounding_box": [
        {"id": "b1", "classification": "face", "data": [-10, -20, 50, 60]},
        {"id": "b2", "classification": "cup", "data": [700, 10, 20, 20]},
    ]}]}  # fmt: skip
    pair = with_annotation(photo_samples(photos)[2], data)  # 600 x 400
    export("yolo", tmp_path, [pair])
    assert (tmp_path / "labels/val/000002.txt").read_text() == "0 0.033333 0.050000 0.066667 0.100000\n"
    (image,) = read_yolo(tmp_path)
    assert boxes(image.annotation) == [("face", (0.0, 0.0, 40.0, 40.0))]


def test_a_moved_dataset_is_read_from_where_it_is(tmp_path, photos):
    export("yolo", tmp_path / "first", photo_samples(photos, boxes_only=True))
    shutil.copytree(tmp_path / "first", tmp_path / "second")
    shutil.rmtree(tmp_path / "first")
    dataset = read_yolo(tmp_path / "second")
    assert dataset.path == tmp_path / "second"
    assert len(dataset) == 4
    assert all(image.annotation.images[0].bounding_box for image in dataset)


def write_dataset(root: Path, labels: str, config: str = "names: [cat, dog]\ntrain: images/train\n") -> Path:
    from PIL import Image

    (root / "images/train").mkdir(parents=True)
    (root / "labels/train").mkdir(parents=True)
    Image.new("RGB", (200, 100)).save(root / "images/train/a.png")
    (root / "labels/train/a.txt").write_text(labels)
    (root / "data.yaml").write_text(config)
    return root / "labels/train/a.txt"


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2\n", ":2: expected 'class cx cy w h' (a box) or 'class x1 y1"),
        ("0 0.5 0.5 0.2 0.2\n\n2 0.5 0.5 0.2 0.2\n", ":3: class 2 is not one of data.yaml's names (0 to 1)"),
        ("cat 0.5 0.5 0.2 0.2\n", ":1: expected 'class cx cy w h'"),
        ("0 0.5 0.5 0 0.2\n", ":1: a box of width and height > 0 expected"),
        ("0 0.5 nan 0.2 0.2\n", ":1: expected 'class cx cy w h'"),
    ],
    ids=["short-row", "unknown-class", "class-name", "zero-width", "nan"],
)
def test_a_bad_label_line_is_named_by_file_and_line(tmp_path, labels, message):
    label = write_dataset(tmp_path, labels)
    (image,) = read_yolo(tmp_path)
    with pytest.raises(AnnotationError) as raised:
        _ = image.annotation
    assert str(raised.value).startswith(f"{label}{message}")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("names: [cat, cat]\ntrain: images/train\n", "names: 'cat' is the name of classes 0 and 1"),
        ("names: {0: cat, 2: dog}\ntrain: images/train\n", "names: expected ids 0 to 1, got [0, 2]"),
        ("names: [cat]\ntrain: images/nowhere\n", "train: expected a folder of images"),
        ("names: [cat]\n", "names no train, val or test image folder"),
        ("names: [cat]\nkpt_shape: [17, 3]\ntrain: images/train\n", "YOLO pose datasets are not read"),
        ("names: [cat\n", "not valid YAML (line 2)"),
    ],
    ids=["duplicate-name", "gap-in-ids", "no-folder", "no-split", "pose", "bad-yaml"],
)
def test_a_bad_data_yaml_is_refused_naming_the_key(tmp_path, config, message):
    write_dataset(tmp_path, "", config)
    with pytest.raises(AnnotationError, match=re.escape(message)) as raised:
        read_yolo(tmp_path)
    assert str(raised.value).startswith(str(tmp_path / "data.yaml"))


def test_names_as_a_mapping_an_image_without_labels_and_no_data_yaml(tmp_path):
    label = write_dataset(tmp_path, "", "names: {0: cat, 1: dog}\ntrain: images/train\nval: images/train\n")
    label.unlink()
    (image,) = read_yolo(tmp_path)
    assert image.split is None  # one folder for train and val: no split
    assert geometry(image.annotation) == []
    assert (image.width, image.height) == (200, 100)
    (tmp_path / "data.yaml").unlink()
    with pytest.raises(AnnotationError, match="no data.yaml; a YOLO dataset has data.yaml"):
        read_yolo(tmp_path)
