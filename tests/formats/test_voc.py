"""Pascal VOC written from DM v2, checked by datumaro's reader, and read back by ``read_voc``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from synapse_sdk.errors import AnnotationError, UsageError
from synapse_sdk.formats import Sample, read_voc, validate_annotation
from synapse_sdk.formats.voc import VocWriter
from tests.formats.exports import CLASSES, boxes, export, geometry, photo_samples, with_annotation


def datumaro_items(root: Path) -> tuple[list[str], dict[str, tuple[str, int, int, list]]]:
    """datumaro's view of a VOC folder (1-based inclusive boxes, the VOC devkit's convention)."""
    import datumaro
    from datumaro.components.annotation import AnnotationType

    dataset = datumaro.Dataset.import_from(str(root), "voc", coordinate_mode="voc-one-based")
    labels = [label.name for label in dataset.categories()[AnnotationType.label].items]
    items = {}
    for item in dataset:
        height, width = item.media.size
        found = sorted(
            (labels[a.label], tuple(a.get_bbox()), a.attributes["difficult"])
            for a in item.annotations
            if a.type == AnnotationType.bbox
        )
        items[item.id] = (item.subset, width, height, found)
    return labels, items


@pytest.mark.parametrize("splits", [True, False], ids=["splits", "no-splits"])
def test_datumaro_reads_the_boxes_written(tmp_path, photos, splits):
    pairs = photo_samples(photos, splits=splits)
    hard = pairs[1][0].annotation.model_dump()
    hard["images"][0]["bounding_box"][0]["attrs"] = [{"name": "difficult", "value": True}]
    pairs[1] = with_annotation(pairs[1], hard)
    export("voc", tmp_path, pairs)
    labels, items = datumaro_items(tmp_path)
    assert labels == CLASSES
    assert len(items) == len(pairs) == 4
    for sample, _ in pairs:
        subset, width, height, found = items[Path(sample.file_name).stem]
        assert (subset, width, height) == (sample.split or "default", sample.width, sample.height)
        difficult = [
            (box.classification, tuple(box.data), any(a.name == "difficult" for a in box.attrs))
            for box in sample.annotation.images[0].bounding_box
        ]
        assert found == sorted(difficult)


def test_the_files_follow_the_voc_layout_and_its_1_based_pixels(tmp_path, photos):
    pairs = photo_samples(photos)
    written = export("voc", tmp_path, pairs)
    assert written == [Path("ImageSets/Main/train.txt"), Path("ImageSets/Main/val.txt"),
                       Path("ImageSets/Main/test.txt"), Path("labelmap.txt")]  # fmt: skip
    assert (tmp_path / "ImageSets/Main/train.txt").read_text() == "000000\n000001\n"
    assert (tmp_path / "labelmap.txt").read_text().splitlines() == [
        "# label:color_rgb:parts:actions",
        *(f"{name}:::" for name in CLASSES),
    ]
    xml = (tmp_path / "Annotations/000000.xml").read_text()
    # The astronaut's face [177, 66, 95, 95]: pixels 178..272 and 67..161, counted from 1.
    assert "<xmin>178</xmin>" in xml and "<xmax>272</xmax>" in xml
    assert "<ymin>67</ymin>" in xml and "<ymax>161</ymax>" in xml
    assert "<width>512</width>" in xml and "<filename>000000.jpg</filename>" in xml
    assert sorted(p.name for p in (tmp_path / "JPEGImages").iterdir()) == [s.file_name for s, _ in pairs]
    assert not (tmp_path / ".voc").exists()


def test_boxes_round_trip_through_read_voc(tmp_path, photos):
    pairs = photo_samples(photos, boxes_only=True)
    export("voc", tmp_path, pairs)
    dataset = read_voc(tmp_path)
    assert (dataset.format, len(dataset), dataset.category_names) == ("VOC", 4, CLASSES)
    read = {image.id: image for image in dataset}
    for sample, _ in pairs:
        image = read[Path(sample.file_name).stem]
        assert (image.file_name, image.split) == (f"JPEGImages/{sample.file_name}", sample.split)
        assert (image.width, image.height) == (sample.width, sample.height)
        assert geometry(image.annotation) == geometry(sample.annotation)


def test_coordinates_become_whole_pixels_and_a_lone_polygon_its_box(tmp_path, photos):
    data = {"images": [{
        "bounding_box": [{"id": "b1", "classification": "cup", "data": [10.4, 20.6, 30.2, 40.5]},
                         {"id": "b2", "classification": "cup", "data": [-5, 390, 20, 30]}],
        "polygon": [{"id": "p1", "classification": "spoon", "data": [[100, 100], [150, 120], [120, 180]]}],
    }]}  # fmt: skip
    export("voc", tmp_path, [with_annotation(photo_samples(photos)[2], data)])  # 600 x 400
    (image,) = read_voc(tmp_path)
    assert boxes(image.annotation) == [
        ("cup", (0.0, 390.0, 15.0, 10.0)),  # cut to the image
        ("cup", (10.0, 21.0, 31.0, 40.0)),
        ("spoon", (100.0, 100.0, 50.0, 80.0)),
    ]


Objects = list[tuple[str, str, tuple[str, ...], tuple[int, ...]]]


def element_tree_bytes(sample: Sample, objects: Objects) -> bytes:
    """The annotation file as ElementTree writes it (indented, with the declaration): the oracle
    of the writer's text template. ``objects``: name, pose, flags and corners of each."""
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "JPEGImages"
    ET.SubElement(root, "filename").text = sample.file_name
    dimensions = ET.SubElement(root, "size")
    for key, value in (("width", sample.width), ("height", sample.height), ("depth", 3)):
        ET.SubElement(dimensions, key).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for name, pose, flags, corners in objects:
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = name
        ET.SubElement(obj, "pose").text = pose
        for flag, value in zip(("truncated", "difficult", "occluded"), flags, strict=True):
            ET.SubElement(obj, flag).text = value
        bndbox = ET.SubElement(obj, "bndbox")
        for key, value in zip(("xmin", "ymin", "xmax", "ymax"), corners, strict=True):
            ET.SubElement(bndbox, key).text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def test_the_xml_is_what_element_tree_writes_markup_characters_escaped(tmp_path):
    classes = ["a&b <c>", "é 😀", "outside", "plain"]
    attrs = [{"name": "pose", "value": "Left & <up>"}, {"name": "difficult", "value": True}]
    truncated, no_pose = [{"name": "truncated", "value": 1}], [{"name": "pose", "value": ""}]
    data = {"images": [{"bounding_box": [
        {"id": "b1", "classification": classes[0], "attrs": attrs, "data": [0.4, 1.5, 10, 5]},
        {"id": "b2", "classification": classes[1], "attrs": truncated, "data": [3, 3, 4, 4]},
        {"id": "b3", "classification": classes[2], "data": [50, 50, 4, 4]},  # outside: left out
        {"id": "b4", "classification": classes[3], "attrs": no_pose, "data": [0, 0, 1, 1]},
    ]}]}  # fmt: skip
    annotation = validate_annotation(data, where="t")
    sample = Sample(0, "1", "a&b's <1>.jpg", 20, 10, None, annotation)
    assert VocWriter(tmp_path, classes).write(sample) == [Path("Annotations/a&b's <1>.xml")]
    written = (tmp_path / "Annotations/a&b's <1>.xml").read_bytes()
    assert written == element_tree_bytes(sample, [
        (classes[0], "Left & <up>", ("0", "1", "0"), (1, 3, 10, 7)),
        (classes[1], "Unspecified", ("1", "0", "0"), (4, 4, 7, 7)),
        (classes[3], "Unspecified", ("0", "0", "0"), (1, 1, 1, 1)),
    ])  # fmt: skip
    assert b"<name>a&amp;b &lt;c&gt;</name>" in written
    assert [box.classification for box in parse_back(tmp_path)] == [classes[0], classes[1], classes[3]]


def parse_back(root: Path) -> list:
    (image,) = read_voc(root)
    return image.annotation.images[0].bounding_box


def test_a_class_name_labelmap_cannot_hold_is_refused_up_front(tmp_path):
    with pytest.raises(UsageError, match="classes: 'a:b': VOC's labelmap.txt separates fields with ':'"):
        VocWriter(tmp_path, ["car", "a:b"])


def write_voc(root: Path, xml: str, lists: dict[str, str] | None = None) -> Path:
    from PIL import Image

    (root / "Annotations").mkdir(parents=True)
    (root / "JPEGImages").mkdir()
    Image.new("RGB", (120, 80)).save(root / "JPEGImages/a.png")
    path = root / "Annotations/a.xml"
    path.write_text(xml)
    for name, text in (lists or {}).items():
        (root / "ImageSets/Main").mkdir(parents=True, exist_ok=True)
        (root / "ImageSets/Main" / f"{name}.txt").write_text(text)
    return path


OBJECT = (
    "<object><name>{name}</name>"
    "<bndbox><xmin>{xmin}</xmin><ymin>1</ymin><xmax>10</xmax><ymax>10</ymax></bndbox></object>"
)


def test_without_labelmap_or_image_sets_the_objects_name_the_classes(tmp_path):
    objects = (
        OBJECT.format(name="dog", xmin=1)
        + OBJECT.format(name="cat", xmin=2)
        + OBJECT.format(name="dog", xmin=3)
    )
    write_voc(tmp_path, f"<annotation><filename>a.png</filename>{objects}</annotation>")
    dataset = read_voc(tmp_path)
    (image,) = dataset
    assert (image.id, image.file_name, image.split) == ("a", "JPEGImages/a.png", None)
    assert (image.width, image.height) == (120, 80)  # no <size>: read from the image
    assert dataset.category_names == ["dog", "cat"]
    assert boxes(image.annotation) == [
        ("cat", (1.0, 0.0, 9.0, 10.0)), ("dog", (0.0, 0.0, 10.0, 10.0)), ("dog", (2.0, 0.0, 8.0, 10.0)),
    ]  # fmt: skip


def test_trainval_is_read_only_without_train_and_val(tmp_path):
    write_voc(tmp_path, "<annotation/>", {"trainval": "a\n", "train": "a\n", "car_train": "a 1\n"})
    (image,) = read_voc(tmp_path)
    assert image.split == "train"
    (tmp_path / "ImageSets/Main/train.txt").unlink()
    (image,) = read_voc(tmp_path)
    assert image.split is None
    (tmp_path / "ImageSets/Main/trainval.txt").write_text("a\n../etc/passwd\n")
    with pytest.raises(AnnotationError, match=r"trainval.txt:2: '../etc/passwd' is not an image id"):
        read_voc(tmp_path)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ('<?xml version="1.0"?>\n<!DOCTYPE annotation [<!ENTITY x "y">]>\n<annotation/>',
         ": has a document type or entity declaration; these are refused in untrusted XML"),
        ("<annotation>\n<object>\n</annotation>", ":3: not well-formed XML: mismatched tag"),
        ("<annotation>\n" + OBJECT.format(name="cat", xmin=1) + "\n" + OBJECT.format(name="cat", xmin="one")
         + "</annotation>", ":3: object 2: bndbox/xmin: expected a number, got 'one'"),
        ("<annotation>\n\n<object><bndbox/></object></annotation>",
         ":3: object 1: name: expected the class name"),
        ("<annotation><object><name>cat</name><bndbox><xmin>5</xmin><ymin>1</ymin><xmax>2</xmax><ymax>3</ymax>"
         "</bndbox></object></annotation>", ":1: object 1: bndbox: expected xmax >= xmin"),
        ("<root/>", ":1: expected an <annotation> document, got <root>"),
    ],
    ids=["doctype", "malformed", "bad-number", "no-name", "inverted", "other-root"],
)  # fmt: skip
def test_a_bad_annotation_file_is_named_by_file_and_line(tmp_path, xml, message):
    path = write_voc(tmp_path, xml)
    (image,) = read_voc(tmp_path)
    with pytest.raises(AnnotationError) as raised:
        _ = image.annotation
    assert str(raised.value).startswith(f"{path}{message}")


def test_a_folder_without_annotations_is_refused(tmp_path):
    with pytest.raises(
        AnnotationError, match="no Annotations folder; a VOC dataset has Annotations/<id>.xml"
    ):
        read_voc(tmp_path)
