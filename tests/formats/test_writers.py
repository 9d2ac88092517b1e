"""The dataset writers' contract: names, per-item errors, resuming a killed export byte for byte,
flat memory; and the COCO writer checked by pycocotools and read back by ``read_coco``."""

from __future__ import annotations

import json
import shutil
import tracemalloc
from pathlib import Path

import pytest
from pycocotools.coco import COCO

from synapse_sdk import formats
from synapse_sdk.errors import AnnotationError, UsageError
from synapse_sdk.formats import WRITERS, Sample, get_writer, read_coco, validate_annotation
from synapse_sdk.formats.coco_writer import PARTS
from synapse_sdk.formats.voc import JOURNAL
from tests.formats.exports import CLASSES, boxes, export, geometry, photo_samples, tree, with_annotation

FORMATS = sorted(WRITERS)


def test_every_writer_is_registered_under_its_name():
    assert FORMATS == ["coco", "imagefolder", "voc", "yolo"]
    for name, writer in WRITERS.items():
        assert writer.name == name
        assert get_writer(name) is writer


def test_an_unknown_format_names_the_known_ones_and_the_closest():
    with pytest.raises(UsageError) as raised:
        get_writer("yolov8")
    assert str(raised.value) == (
        "extra_params.output_format: unknown format 'yolov8'; use one of coco, imagefolder, json, voc, yolo "
        "(did you mean 'yolo'?)"
    )
    with pytest.raises(UsageError, match="'json' is the export's own per-item JSON"):
        get_writer("json")


# --- COCO ------------------------------------------------------------------------------------


def test_coco_output_loads_in_pycocotools_with_the_input_boxes(tmp_path, photos):
    pairs = photo_samples(photos)
    written = export("coco", tmp_path, pairs)
    assert written == [Path(f"annotations/instances_{s}.json") for s in ("train", "val", "test")]
    assert not (tmp_path / ".coco").exists()  # the fragments are gone
    loaded = 0
    for split in ("train", "val", "test"):
        oracle = COCO(str(tmp_path / f"annotations/instances_{split}.json"))
        # One category id per class, the same in every file.
        assert [(c["id"], c["name"]) for c in oracle.loadCats(oracle.getCatIds())] == list(
            enumerate(CLASSES, start=1)
        )
        mine = [s for s, _ in pairs if s.split == split]
        assert sorted(oracle.getImgIds()) == [s.index + 1 for s in mine]
        for sample in mine:
            (info,) = oracle.loadImgs([sample.index + 1])
            assert (info["file_name"], info["width"], info["height"]) == (
                sample.file_name, sample.width, sample.height,
            )  # fmt: skip
            assert (tmp_path / "images" / split / info["file_name"]).is_file()
            anns = oracle.loadAnns(oracle.getAnnIds(imgIds=[sample.index + 1]))
            got = sorted((CLASSES[a["category_id"] - 1], tuple(a["bbox"])) for a in anns)
            assert got == boxes(sample.annotation)
            loaded += len(anns)
    assert loaded == len(COCO_ANNOTATIONS(pairs))


def COCO_ANNOTATIONS(pairs):  # noqa: N802 - reads as the count it is
    return [box for sample, _ in pairs for box in sample.annotation.images[0].bounding_box]


def test_coco_round_trips_boxes_polygons_and_areas_through_read_coco(tmp_path, photos):
    pairs = photo_samples(photos, splits=False)
    assert export("coco", tmp_path, pairs) == [Path("annotations/instances_default.json")]
    document = json.loads((tmp_path / "annotations/instances_default.json").read_text())
    spoon = next(a for a in document["annotations"] if a["segmentation"])
    xs, ys = spoon["segmentation"][0][0::2], spoon["segmentation"][0][1::2]
    shoelace = abs(sum(xs[i - 1] * ys[i] - xs[i] * ys[i - 1] for i in range(len(xs)))) / 2
    assert spoon["area"] == shoelace == 4487.5  # the polygon's area, not the box's
    assert [a["id"] for a in document["annotations"]] == list(range(1, 9))
    read = {image.file_name: image for image in read_coco(tmp_path / "annotations/instances_default.json")}
    assert len(read) == 4
    for sample, _ in pairs:
        assert (tmp_path / "images" / sample.file_name).is_file()
        assert geometry(read[sample.file_name].annotation) == geometry(sample.annotation)


def test_coco_keypoints_follow_the_classes_and_come_back_as_read_coco_builds_them(tmp_path, photos):
    person = {
        "classification": {"bounding_box": ["person", "bag"], "keypoint": ["person/nose", "person/left_eye"]},
        "images": [{
            "bounding_box": [{"id": "b1", "classification": "person", "data": [100, 50, 40, 120]},
                             {"id": "b2", "classification": "bag", "data": [130, 110, 20, 25]}],
            "keypoint": [{"id": "k1", "classification": "person/nose", "data": [121, 62],
                          "attrs": [{"name": "visibility", "value": 1}]},
                         {"id": "k2", "classification": "person/left_eye", "data": [125, 60]}],
            "group": [{"id": "g1", "classification": "person", "data": ["b1", "k1", "k2"]}],
        }],
    }  # fmt: skip
    classes = ["person", "bag", "person/left_eye", "person/nose", "person/right_eye"]
    pair = with_annotation(photo_samples(photos, splits=False)[0], person)
    export("coco", tmp_path, [pair], classes)
    path = tmp_path / "annotations/instances_default.json"
    oracle = COCO(str(path))
    categories = oracle.loadCats(oracle.getCatIds())
    assert [(c["id"], c["name"], c.get("keypoints")) for c in categories] == [
        (1, "person", ["left_eye", "nose", "right_eye"]),
        (2, "bag", None),
    ]
    first = oracle.loadAnns(oracle.getAnnIds(catIds=[1]))[0]
    assert first["keypoints"] == [125, 60, 2, 121, 62, 1, 0, 0, 0]
    assert first["num_keypoints"] == 2
    (image,) = read_coco(path)
    assert geometry(image.annotation) == geometry(pair[0].annotation)


# --- per-item errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["coco", "voc", "yolo"])
def test_a_sample_without_a_size_fails_alone(tmp_path, photos, fmt):
    pairs = photo_samples(photos)
    sizeless = Sample(**{**pairs[1][0].__dict__, "width": None})
    writer = get_writer(fmt)(tmp_path, CLASSES)
    writer.write(pairs[0][0])
    with pytest.raises(AnnotationError) as raised:
        writer.write(sizeless)
    assert str(raised.value).startswith(f"item 101 (000001.jpg): {fmt.upper()} needs the image size")
    writer.write(pairs[2][0])
    assert writer.close()


@pytest.mark.parametrize("fmt", ["coco", "voc", "yolo", "imagefolder"])
def test_a_class_outside_the_exports_classes_is_an_error_of_its_item(tmp_path, photos, fmt):
    data = {"images": [{"bounding_box": [{"id": "b1", "classification": "cat", "data": [1, 1, 5, 5]}],
                        "tags": [{"id": "t1", "classification": "cat"}]}]}  # fmt: skip
    sample, _ = with_annotation(photo_samples(photos)[0], data)
    with pytest.raises(AnnotationError, match=r"^item 100 \(000000.jpg\): class 'cat' is not one of"):
        get_writer(fmt)(tmp_path, CLASSES).write(sample)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"file_name": "sub/x.jpg"}, "file_name 'sub/x.jpg' must be a plain file name"),
        ({"split": "training"}, "split 'training' is not one of train, val, test"),
    ],
    ids=["folder-in-name", "unknown-split"],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_bad_name_or_split_is_an_error_of_its_item(tmp_path, photos, fmt, change, message):
    pair = photo_samples(photos)[0]
    tagged = {"images": [{"tags": [{"id": "t1", "classification": "face"}]}]}
    sample, _ = with_annotation(
        pair, tagged if fmt == "imagefolder" else pair[0].annotation.model_dump(), **change
    )
    writer = get_writer(fmt)(tmp_path, CLASSES)
    with pytest.raises(AnnotationError, match=message):
        writer.image_path(sample)
    with pytest.raises(AnnotationError, match=message):
        writer.write(sample)


def test_an_annotation_of_two_images_is_refused():
    sample = Sample(0, "7", "a.jpg", 10, 10, None, validate_annotation({"images": [{}, {}]}, where="t"))
    with pytest.raises(AnnotationError, match="YOLO writes one image per item, the annotation has 2"):
        get_writer("yolo")(Path("unused"), CLASSES).write(sample)


# --- resuming a killed export -------------------------------------------------------------------


def samples_for(fmt: str, photos) -> list:
    """The photos as ``fmt`` can hold them: ImageFolder needs one tag per image."""
    pairs = photo_samples(photos)
    if fmt != "imagefolder":
        return pairs
    first = [pair[0].annotation.images[0].bounding_box[0].classification for pair in pairs]
    return [
        with_annotation(pair, {"images": [{"tags": [{"id": "t1", "classification": label}]}]})
        for pair, label in zip(pairs, first, strict=True)
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_killed_and_resumed_export_gives_the_same_bytes(tmp_path, photos, fmt):
    pairs = samples_for(fmt, photos)
    root = tmp_path / "export"
    export(fmt, root, pairs)
    uninterrupted = tree(root)
    assert uninterrupted
    shutil.rmtree(root)

    first = get_writer(fmt)(root, CLASSES)
    for sample, source in pairs[:2]:
        (root / first.image_path(sample)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, root / first.image_path(sample))
        first.write(sample)
    del first  # killed: close() never ran
    for journal in (root / PARTS, root / JOURNAL):
        if journal.exists():  # the kill also cut the line of a third sample short
            with journal.open("ab") as stream:
                stream.write(b'{"index": 2, "spl')
    export(fmt, root, pairs[1:])  # the resumed run rewrites the last sample it finds done
    assert tree(root) == uninterrupted


@pytest.mark.parametrize("fmt", ["coco", "voc"])
def test_closing_again_with_nothing_written_keeps_the_files(tmp_path, photos, fmt):
    written = export(fmt, tmp_path, photo_samples(photos))
    before = tree(tmp_path)
    assert sorted(get_writer(fmt)(tmp_path, CLASSES).close()) == sorted(written)
    assert tree(tmp_path) == before


# --- memory ---------------------------------------------------------------------------------------


def retained_while_writing(fmt: str, root: Path, count: int) -> int:
    """Bytes still held, after ``count`` samples, by allocations made in ``synapse_sdk/formats``.

    Only the writer's own allocations count: the interpreter's (pathlib interns every path part,
    and its table resizes now and then) would make a peak or a total measure noise, not the writer.
    """
    annotation = validate_annotation(
        {"images": [{"bounding_box": [{"id": "b1", "classification": "face", "data": [1, 2, 3, 4]}]}]},
        where="t",
    )
    writer = get_writer(fmt)(root, CLASSES)
    tracemalloc.start()
    try:
        for index in range(count):
            writer.write(Sample(index, str(index), f"{index:06d}.jpg", 64, 48, "train", annotation))
        writer.flush()  # what a journal buffers (at most _files.JOURNAL_BUFFER bytes) is not growth
        ours = tracemalloc.Filter(True, str(Path(formats.__file__).parent / "*"))
        snapshot = tracemalloc.take_snapshot().filter_traces([ours])
        return sum(stat.size for stat in snapshot.statistics("filename"))
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["voc", "yolo"])
def test_writing_does_not_grow_with_the_number_of_samples(tmp_path, fmt):
    small = retained_while_writing(fmt, tmp_path / "small", 200)
    large = retained_while_writing(fmt, tmp_path / "large", 2_000)
    assert large - small < 20_000, (small, large)  # 1,800 more samples: not even 12 bytes each
    assert len(list((tmp_path / "large").rglob("*.txt" if fmt == "yolo" else "*.xml"))) == 2_000


@pytest.mark.parametrize("fmt", FORMATS)
def test_several_writers_of_one_export_close_to_a_single_writers_bytes(tmp_path, photos, fmt):
    """A sharded export: each process writes other samples (with a journal part of its own where the
    format keeps one); the export's own writer closes them all into a single writer's bytes."""
    pairs = samples_for(fmt, photos)
    root = tmp_path / "export"
    export(fmt, root, pairs)
    single = tree(root)
    shutil.rmtree(root)

    writer_class = get_writer(fmt)
    journaled = fmt in ("coco", "voc")
    shards = [
        writer_class(root, CLASSES, part=str(n)) if journaled else writer_class(root, CLASSES)  # type: ignore[call-arg]
        for n in range(2)
    ]
    for position, (sample, source) in reversed(list(enumerate(pairs))):  # out of order, interleaved
        shard = shards[position % 2]
        (root / shard.image_path(sample)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, root / shard.image_path(sample))
        shard.write(sample)
    shards[1].write(pairs[0][0])  # a sample written twice, by two shards (a killed shard's retry)
    for shard in shards:
        shard.flush()  # as a shard does before it hands its records back
    if journaled:
        assert len(list((root / (PARTS if fmt == "coco" else JOURNAL)).parent.glob("*-*.jsonl"))) == 2
    writer_class(root, CLASSES).close()
    assert tree(root) == single


@pytest.mark.parametrize("x", [12.5, 0.00005, 3e-9, 1e17, 1 / 3])
def test_coco_files_hold_exactly_what_json_dumps_writes_of_them(tmp_path, x):
    data = {"images": [{"bounding_box": [
        {"id": "b1", "classification": "car", "attrs": [], "data": [x, 2.0, 10.0, 0.25]},
        {"id": "b2", "classification": "car", "attrs": [], "data": [0.0, x, x, 7.0]},
    ]}]}  # fmt: skip
    writer = get_writer("coco")(tmp_path, ["car"])
    writer.write(Sample(0, "1", "a.jpg", 640, 480, "train", validate_annotation(data, where="t")))
    writer.close()

    text = (tmp_path / "annotations" / "instances_train.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
    assert json.loads(text)["annotations"][0]["bbox"] == [x, 2.0, 10.0, 0.25]
