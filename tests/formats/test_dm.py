"""DM v2 validation: what parses, what is refused with which message, the canonical dump, bulk speed."""

from __future__ import annotations

import copy
import importlib
import json
import subprocess
import sys
import time

import pytest
from pydantic import ValidationError

from synapse_sdk.errors import AnnotationError, ParamsError
from synapse_sdk.formats import AnnotationData, BoundingBox, ImageAnnotations, Tag, dump, validate_annotation

BOX = {"id": "b1", "classification": "car", "attrs": [], "data": [1, 2, 3, 4]}
FULL = {
    "classification": {"bounding_box": ["car", "person"], "polygon": ["road"], "tags": ["day"]},
    "images": [
        {
            "bounding_box": [
                {"id": "b1", "classification": "car", "attrs": [{"name": "color", "value": "red"}],
                 "data": [12.0, 30.5, 40.0, 22.0]},
                {"id": "b2", "classification": "person", "attrs": [], "data": [1, 2, 3, 5]},
            ],
            "polygon": [{"id": "p1", "classification": "road", "attrs": [],
                         "data": [[0, 0], [10, 0], [10, 5]]}],
            "polyline": [{"id": "l1", "classification": "lane", "attrs": [], "data": [[0, 0], [3, 4]]}],
            "keypoint": [{"id": "k1", "classification": "person", "attrs": [], "data": [31.0, 44.0]}],
            "relation": [{"id": "r1", "classification": "rides", "attrs": [], "data": ["k1", "b1"]}],
            "group": [{"id": "g1", "classification": "family", "attrs": [], "data": ["b1", "k1"]}],
            "tags": [{"id": "t1", "classification": "day", "attrs": []}],
        }
    ],
}  # fmt: skip


def refused(change, where="task 12") -> AnnotationError:
    data = copy.deepcopy(FULL)
    change(data)
    with pytest.raises(AnnotationError) as info:
        validate_annotation(data, where=where)
    return info.value


def image(data):
    return data["images"][0]


def test_a_full_annotation_parses_and_dumps_to_what_came_in():
    annotation = validate_annotation(FULL, where="task 1")
    assert isinstance(annotation.images[0].bounding_box[0], BoundingBox)
    assert annotation.images[0].bounding_box[0].data == (12.0, 30.5, 40.0, 22.0)
    assert dump(annotation) == FULL
    assert json.loads(json.dumps(dump(annotation))) == FULL


def test_missing_lists_default_to_empty_and_dump_writes_them_out():
    box = {"id": "b1", "classification": "car", "data": [1, 2, 3, 4]}
    annotation = validate_annotation({"images": [{"bounding_box": [box]}]}, where="x")
    assert annotation.classification == {}
    assert annotation.images[0].polygon == []
    assert dump(annotation) == {
        "classification": {},
        "images": [
            {
                "bounding_box": [BOX],
                "polygon": [],
                "polyline": [],
                "keypoint": [],
                "relation": [],
                "group": [],
            }
        ],
    }
    assert dump(validate_annotation({}, where="x")) == {"classification": {}, "images": []}


def test_tags_are_dumped_only_when_an_image_has_some():
    tag = {"id": "t1", "classification": "7"}
    annotation = validate_annotation({"images": [{"tags": []}, {"tags": [tag]}]}, where="x")
    first, second = dump(annotation)["images"]
    assert "tags" not in first
    assert second["tags"] == [{"id": "t1", "classification": "7", "attrs": []}]
    assert annotation.model_dump_json().count('"tags"') == 1


def test_json_text_and_bytes_validate_like_dicts():
    text = json.dumps(FULL)
    assert validate_annotation(text, where="x") == validate_annotation(FULL, where="x")
    assert validate_annotation(text.encode(), where="x") == validate_annotation(FULL, where="x")


def test_models_are_built_in_code_too_and_check_the_same_rules():
    box = BoundingBox(id="b1", classification="car", data=(1, 2, 3, 4))
    item = ImageAnnotations(bounding_box=[box], tags=[Tag(id="t1", classification="day")])
    annotation = AnnotationData(images=[item])
    assert [(tool, a.id) for tool, a in item.annotations()] == [("bounding_box", "b1")]
    assert validate_annotation(dump(annotation), where="x") == annotation
    with pytest.raises(ValidationError, match="width and height > 0"):
        BoundingBox(id="b1", classification="car", data=(1, 2, 0, 4))
    with pytest.raises(ValidationError, match="ids are unique"):
        ImageAnnotations(bounding_box=[box], tags=[Tag(id="b1", classification="day")])


def test_an_annotation_error_is_a_params_error_with_every_problem():
    def two_problems(data):
        image(data)["bounding_box"][0]["data"] = [1, 2, 0, 5]
        image(data)["keypoint"][0]["id"] = "k 1"

    error = refused(two_problems)
    assert isinstance(error, ParamsError)
    assert error.exit_code == 2
    assert str(error) == (
        "task 12: images[0].bounding_box[0].data: expected [x, y, width, height] with width and height > 0, "
        "got [1, 2, 0, 5] (and 1 more)"
    )
    assert error.problems == [
        "task 12: images[0].bounding_box[0].data: expected [x, y, width, height] with width and height > 0, "
        "got [1, 2, 0, 5]",
        "task 12: images[0].keypoint[0].id: expected an id of letters, digits, '_' and '-' (like 'b1'), "
        "got 'k 1'",
    ]
    assert "\n" not in str(error)


def set_box(data, value):
    image(data)["bounding_box"][1]["data"] = value


BOX_DATA = "images[0].bounding_box[1].data: expected [x, y, width, height]"
RULES = [
    ("zero width", lambda d: set_box(d, [1, 2, 0, 5]),
     f"{BOX_DATA} with width and height > 0, got [1, 2, 0, 5]"),
    ("negative height", lambda d: set_box(d, [1, 2, 3, -5]),
     f"{BOX_DATA} with width and height > 0, got [1, 2, 3, -5]"),
    ("three numbers", lambda d: set_box(d, [1, 2, 3]),
     f"{BOX_DATA} of 4 finite numbers, got [1, 2, 3]"),
    ("string number", lambda d: set_box(d, [1, "2", 3, 4]),
     f'{BOX_DATA} of 4 finite numbers, got [1, "2", 3, 4]'),
    ("boolean", lambda d: set_box(d, [1, True, 3, 4]),
     f"{BOX_DATA} of 4 finite numbers, got [1, true, 3, 4]"),
    ("infinite", lambda d: set_box(d, [1, 2, float("inf"), 4]),
     f"{BOX_DATA} of 4 finite numbers, got [1, 2, Infinity, 4]"),
    ("nan", lambda d: set_box(d, [float("nan"), 2, 3, 4]),
     f"{BOX_DATA} of 4 finite numbers, got [NaN, 2, 3, 4]"),
    ("polygon of 2 points", lambda d: image(d)["polygon"][0].update(data=[[0, 0], [1, 1]]),
     "images[0].polygon[0].data: expected at least 3 [x, y] points, got [[0, 0], [1, 1]]"),
    ("polygon point of 3 numbers", lambda d: image(d)["polygon"][0].update(data=[[0, 0, 0], [1, 1], [2, 0]]),
     "images[0].polygon[0].data: expected a list of [x, y] points of finite numbers, "
     "got [[0, 0, 0], [1, 1], [2, 0]]"),
    ("polyline of 1 point", lambda d: image(d)["polyline"][0].update(data=[[0, 0]]),
     "images[0].polyline[0].data: expected at least 2 [x, y] points, got [[0, 0]]"),
    ("keypoint of 3 numbers", lambda d: image(d)["keypoint"][0].update(data=[1, 2, 2]),
     "images[0].keypoint[0].data: expected [x, y] of 2 finite numbers, got [1, 2, 2]"),
    ("relation of 1 id", lambda d: image(d)["relation"][0].update(data=["k1"]),
     'images[0].relation[0].data: expected [from_id, to_id], got ["k1"]'),
    ("empty group", lambda d: image(d)["group"][0].update(data=[]),
     "images[0].group[0].data: expected a list of one or more annotation ids, got []"),
    ("bad id", lambda d: image(d)["polygon"][0].update(id="p/1"),
     "images[0].polygon[0].id: expected an id of letters, digits, '_' and '-' (like 'b1'), got 'p/1'"),
    ("empty id", lambda d: image(d)["polygon"][0].update(id=""),
     "images[0].polygon[0].id: expected an id of letters, digits, '_' and '-' (like 'b1'), got ''"),
    ("duplicate id", lambda d: image(d)["keypoint"][0].update(id="b2"),
     "images[0].keypoint[0].id: 'b2' is already the id of bounding_box[1]; ids are unique within an image"),
    ("tag id taken", lambda d: image(d)["tags"][0].update(id="p1"),
     "images[0].tags[0].id: 'p1' is already the id of polygon[0]; ids are unique within an image"),
    ("relation to nothing", lambda d: image(d)["relation"][0].update(data=["k1", "zz"]),
     "images[0].relation[0].data[1]: 'zz' is not the id of an annotation in this image"),
    ("relation to a tag", lambda d: image(d)["relation"][0].update(data=["t1", "b1"]),
     "images[0].relation[0].data[0]: 't1' is not the id of an annotation in this image"),
    ("relation to another image", lambda d: d["images"].append({"keypoint": [
         {"id": "k9", "classification": "person", "data": [0, 0]}]}) or image(d)["relation"][0].update(
         data=["k1", "k9"]),
     "images[0].relation[0].data[1]: 'k9' is not the id of an annotation in this image"),
    ("group with itself", lambda d: image(d)["group"][0].update(data=["b1", "g1"]),
     "images[0].group[0].data[1]: group 'g1' refers to itself"),
    ("class not listed", lambda d: image(d)["bounding_box"][1].update(classification="truck"),
     "images[0].bounding_box[1].classification: 'truck' is not listed under classification.bounding_box "
     "('car', 'person')"),
    ("class misspelt", lambda d: image(d)["polygon"][0].update(classification="raod"),
     "images[0].polygon[0].classification: 'raod' is not listed under classification.polygon ('road') "
     "(did you mean 'road'?)"),
    ("tag class not listed", lambda d: image(d)["tags"][0].update(classification="night"),
     "images[0].tags[0].classification: 'night' is not listed under classification.tags ('day')"),
    ("tool listed with no class", lambda d: d["classification"].update(keypoint=[]),
     "images[0].keypoint[0].classification: 'person' is not listed under classification.keypoint (nothing)"),
    ("unknown tool in the map", lambda d: d["classification"].update(bounding_boxes=["car"]),
     "classification.bounding_boxes: unknown tool (did you mean 'bounding_box'?)"),
    ("unknown image key", lambda d: image(d).update(boxes=[]),
     "images[0].boxes: unknown field; expected one of bounding_box, polygon, polyline, keypoint, relation, "
     "group, tags"),
    ("misspelt image key", lambda d: image(d).update(polygons=[]),
     "images[0].polygons: unknown field (did you mean 'polygon'?)"),
    ("unknown annotation key", lambda d: image(d)["bounding_box"][0].update(score=0.9),
     "images[0].bounding_box[0].score: unknown field; expected one of id, classification, attrs, data"),
    ("data on a tag", lambda d: image(d)["tags"][0].update(data=[1]),
     "images[0].tags[0].data: unknown field; expected one of id, classification, attrs"),
    ("unknown top key", lambda d: d.update(image=[]),
     "image: unknown field (did you mean 'images'?)"),
    ("misspelt attr key", lambda d: image(d)["bounding_box"][0]["attrs"][0].update(value=None, nmae="x"),
     "images[0].bounding_box[0].attrs[0].nmae: unknown field (did you mean 'name'?)"),
    ("attr without value", lambda d: image(d)["bounding_box"][0]["attrs"][0].pop("value"),
     "images[0].bounding_box[0].attrs[0].value: required field is missing"),
    ("missing data", lambda d: image(d)["keypoint"][0].pop("data"),
     "images[0].keypoint[0].data: required field is missing"),
    ("missing id", lambda d: image(d)["keypoint"][0].pop("id"),
     "images[0].keypoint[0].id: required field is missing"),
    ("empty class", lambda d: image(d)["keypoint"][0].update(classification=""),
     "images[0].keypoint[0].classification: expected a non-empty string"),
    ("class not a string", lambda d: image(d)["keypoint"][0].update(classification=3),
     "images[0].keypoint[0].classification: expected a string, got 3"),
    ("images not a list", lambda d: d.update(images={"bounding_box": []}),
     'images: expected a list, got {"bounding_box": []}'),
    ("image not an object", lambda d: d.update(images=[[]]),
     "images[0]: expected an object, got []"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_each_rule_is_refused_naming_the_item_and_the_field(change, message):
    assert str(refused(change)) == f"task 12: {message}"


def test_a_value_that_is_not_an_object_or_json_is_refused():
    with pytest.raises(AnnotationError, match=r"^task 3: expected an object, got \[\]$"):
        validate_annotation([], where="task 3")
    with pytest.raises(AnnotationError, match=r"^task 3: not valid JSON: "):
        validate_annotation("{not json", where="task 3")


def test_a_long_value_is_cut_in_the_message():
    points = [[i, i] for i in range(100)]
    error = refused(lambda d: image(d)["polygon"][0].update(data=[*points, [0, "x"]]))
    assert str(error).endswith("...")
    assert len(str(error)) < 200


def test_one_hundred_thousand_small_annotations_validate_in_well_under_two_seconds():
    # Streamed like an export walks tasks: each item validated, used, then dropped.
    items = [{"images": [{"bounding_box": [dict(BOX, data=[i, 2, 3, 4])]}]} for i in range(100_000)]
    total = 0.0
    start = time.perf_counter()
    for n, item in enumerate(items):
        total += validate_annotation(item, where=f"task {n}").images[0].bounding_box[0].data[0]
    elapsed = time.perf_counter() - start
    assert total == sum(range(100_000))
    # About 0.6 s on the development machine; the bound leaves room for a loaded CI runner.
    assert elapsed < 2.0, f"validating 100,000 annotations took {elapsed:.2f} s"


def test_the_formats_package_lists_exactly_its_public_names():
    module = importlib.import_module("synapse_sdk.formats")
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, type(sys))
    }
    assert set(module.__all__) == public - {"annotations"}
    for name in module.__all__:
        assert getattr(module, name).__doc__, f"{name} has no docstring"


def test_importing_the_formats_pulls_in_nothing_heavy():
    code = "import synapse_sdk.formats, sys, json; print(json.dumps(sorted(sys.modules)))"
    loaded = {
        name.split(".")[0] for name in json.loads(subprocess.check_output([sys.executable, "-c", code]))
    }
    assert not loaded & {"pycocotools", "numpy", "ray", "fastapi", "httpx", "rich", "fsspec"}


def test_trusted_data_skips_the_checks_across_annotations_but_not_the_fields():
    twice = {"images": [{"bounding_box": [BOX, {**BOX, "classification": "bus"}]}]}
    with pytest.raises(AnnotationError, match="already the id of"):
        validate_annotation(twice, where="task 1")
    # Stored by the platform, so checked already: the same models, without the cross checks again.
    assert len(validate_annotation(twice, where="task 1", trusted=True).images[0].bounding_box) == 2
    flat = {"images": [{"bounding_box": [{**BOX, "data": [1, 2, 0, 4]}]}]}
    with pytest.raises(AnnotationError, match="width and height > 0"):
        validate_annotation(flat, where="task 1", trusted=True)
