"""COCO read into DM v2 and written back, checked against pycocotools (the reference COCO reader)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as masks
from pycocotools.coco import COCO

from synapse_sdk.errors import AnnotationError
from synapse_sdk.formats import AnnotationData, read_coco, to_coco, validate_annotation

# pycocotools' compiled mask decoder (annToMask) passes copy=False to numpy >= 2 the old way.
OLD_PYCOCOTOOLS_ARRAY = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)
KEYPOINTS = ["nose", "left_eye", "right_eye", "left_ear", "right_ear"]


def crowd_rle(height: int, width: int, box: tuple[int, int, int, int]) -> dict:
    x, y, w, h = box
    region = np.zeros((height, width), dtype=np.uint8, order="F")
    region[y : y + h, x : x + w] = 1
    rle = masks.encode(region)
    return {"size": rle["size"], "counts": rle["counts"].decode()}


def coco_document() -> dict:
    """Three images: boxes, a polygon, a two-part polygon, a crowd RLE, keypoints, an empty image."""
    return {
        "info": {"description": "synapse_sdk test"},
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 640, "height": 480},
            {"id": 2, "file_name": "b.jpg", "width": 320, "height": 240},
            {"id": 3, "file_name": "c.jpg", "width": 100, "height": 100},
        ],
        "categories": [
            {"id": 1, "name": "person", "supercategory": "person", "keypoints": KEYPOINTS,
             "skeleton": [[1, 2], [1, 3]]},
            {"id": 2, "name": "car", "supercategory": "vehicle"},
            {"id": 5, "name": "dog", "supercategory": "animal"},
        ],
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 2, "iscrowd": 0, "area": 1200, "bbox": [10, 20, 30, 40],
             "segmentation": [[10, 20, 40, 20, 40, 60, 10, 60]]},
            {"id": 11, "image_id": 1, "category_id": 5, "iscrowd": 0, "area": 700.5,
             "bbox": [100.5, 80.25, 50, 25.75],
             "segmentation": [[100.5, 80.25, 130, 80.25, 120, 106],
                              [140, 90, 150.5, 90, 150.5, 100, 140, 100]]},
            {"id": 12, "image_id": 1, "category_id": 2, "iscrowd": 1, "area": 1800,
             "bbox": [300, 200, 60, 30],
             "segmentation": crowd_rle(480, 640, (300, 200, 60, 30))},
            {"id": 13, "image_id": 2, "category_id": 1, "iscrowd": 0, "area": 3000, "bbox": [50, 40, 50, 100],
             "segmentation": [[50, 40, 100, 40, 100, 140, 50, 140]], "num_keypoints": 3,
             "keypoints": [75, 50, 2, 70, 48, 1, 0, 0, 0, 65, 52, 2, 0, 0, 0]},
            {"id": 14, "image_id": 2, "category_id": 1, "iscrowd": 0, "area": 400, "bbox": [200, 100, 20, 20],
             "segmentation": [], "num_keypoints": 0, "keypoints": [0] * 15},
            {"id": 15, "image_id": 2, "category_id": 2, "iscrowd": 0, "area": 50, "bbox": [1, 1, 10, 5]},
        ],
    }  # fmt: skip


def write(tmp_path: Path, document: dict, name: str = "instances.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def coco_file(tmp_path: Path) -> Path:
    return write(tmp_path, coco_document())


def oracle_anns(coco: COCO, image_id: int, **filters) -> list[dict]:
    return coco.loadAnns(coco.getAnnIds(imgIds=[image_id], **filters))


def points(flat: list[float]) -> list[tuple[float, float]]:
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def test_images_and_categories_match_pycocotools(coco_file):
    coco, dataset = COCO(str(coco_file)), read_coco(coco_file)
    assert len(dataset) == len(coco.getImgIds()) == 3
    assert [(i.id, i.file_name, i.width, i.height) for i in dataset] == [
        (i["id"], i["file_name"], i["width"], i["height"]) for i in coco.loadImgs(coco.getImgIds())
    ]
    assert dataset.category_names == [c["name"] for c in coco.loadCats(coco.getCatIds())]
    assert dataset.categories[0].keypoints == tuple(KEYPOINTS)
    assert dataset.classification["keypoint"] == [f"person/{name}" for name in KEYPOINTS]


def test_boxes_polygons_and_crowds_match_pycocotools(coco_file):
    coco = COCO(str(coco_file))
    for image in read_coco(coco_file):
        item = image.annotation.images[0]
        anns = oracle_anns(coco, image.id)
        names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
        assert [(b.id, b.classification, list(b.data)) for b in item.bounding_box] == [
            (f"b{a['id']}", names[a["category_id"]], a["bbox"]) for a in anns
        ]
        expected_polygons = [
            (f"p{a['id']}-{n}", points(flat))
            for a in anns
            if isinstance(a.get("segmentation"), list)
            for n, flat in enumerate(a["segmentation"])
        ]
        assert [(p.id, p.data) for p in item.polygon] == expected_polygons
        crowd = {f"b{a['id']}" for a in oracle_anns(coco, image.id, iscrowd=1)}
        assert {b.id for b in item.bounding_box if any(a.name == "iscrowd" for a in b.attrs)} == crowd
    assert len(coco.getAnnIds()) == sum(
        len(i.annotation.images[0].bounding_box) for i in read_coco(coco_file)
    )


def test_a_multi_polygon_gives_one_polygon_each_and_rle_keeps_only_the_box(coco_file):
    first = next(iter(read_coco(coco_file))).annotation.images[0]
    assert [p.id for p in first.polygon] == ["p10-0", "p11-0", "p11-1"]
    assert {g.id: g.data for g in first.group} == {"g10": ["b10", "p10-0"], "g11": ["b11", "p11-0", "p11-1"]}
    assert "b12" in {b.id for b in first.bounding_box}
    assert not [p for p in first.polygon if p.id.startswith("p12")]


def test_visible_keypoints_match_pycocotools_and_are_grouped_with_the_box(coco_file):
    coco = COCO(str(coco_file))
    second = list(read_coco(coco_file))[1].annotation.images[0]
    expected = []
    for ann in oracle_anns(coco, 2, catIds=coco.getCatIds(catNms=["person"])):
        names = coco.loadCats(ann["category_id"])[0]["keypoints"]
        flat = ann["keypoints"]
        expected += [
            (f"k{ann['id']}-{j}", f"person/{names[j]}", (flat[3 * j], flat[3 * j + 1]), flat[3 * j + 2])
            for j in range(len(names))
            if flat[3 * j + 2] > 0
        ]
    assert [(k.id, k.classification, k.data, k.attrs[0].value) for k in second.keypoint] == expected
    assert len(second.keypoint) == sum(a.get("num_keypoints", 0) for a in oracle_anns(coco, 2))
    assert {g.id: g.data for g in second.group} == {"g13": ["b13", "p13-0", "k13-0", "k13-1", "k13-3"]}


def test_each_image_is_valid_dm_v2_listing_the_classes_it_uses(coco_file):
    for image in read_coco(coco_file):
        assert validate_annotation(image.annotation.model_dump(mode="json"), where=image.file_name)
    second = list(read_coco(coco_file))[1].annotation
    assert second.classification == {
        "bounding_box": ["person", "car"],
        "polygon": ["person"],
        "keypoint": ["person/nose", "person/left_eye", "person/left_ear"],
        "group": ["person"],
    }
    assert list(read_coco(coco_file))[2].annotation == AnnotationData(images=[{}])


def exported(tmp_path: Path, source: Path) -> tuple[Path, dict]:
    document = to_coco((i.file_name, i.width, i.height, i.annotation) for i in read_coco(source))
    return write(tmp_path, document, "exported.json"), document


@OLD_PYCOCOTOOLS_ARRAY
def test_to_coco_loads_in_pycocotools_and_round_trips_boxes_and_polygons(tmp_path, coco_file):
    original = COCO(str(coco_file))
    path, _ = exported(tmp_path, coco_file)
    copy = COCO(str(path))
    assert [i["file_name"] for i in copy.loadImgs(copy.getImgIds())] == ["a.jpg", "b.jpg", "c.jpg"]
    pairs = zip(original.loadImgs(original.getImgIds()), copy.loadImgs(copy.getImgIds()), strict=True)
    for before_image, after_image in pairs:
        assert (after_image["width"], after_image["height"]) == (
            before_image["width"],
            before_image["height"],
        )
        before, after = oracle_anns(original, before_image["id"]), oracle_anns(copy, after_image["id"])
        assert [a["bbox"] for a in after] == [a["bbox"] for a in before]
        assert [a["iscrowd"] for a in after] == [a["iscrowd"] for a in before]
        assert [original.loadCats(a["category_id"])[0]["name"] for a in before] == [
            copy.loadCats(a["category_id"])[0]["name"] for a in after
        ]
        for b, a in zip(before, after, strict=True):
            if isinstance(b.get("segmentation"), list) and b["segmentation"]:
                assert a["segmentation"] == b["segmentation"]
                assert np.array_equal(copy.annToMask(a), original.annToMask(b))
            else:  # no polygon, or an RLE mask (not imported)
                assert a["segmentation"] == []
    assert sorted(c["name"] for c in copy.loadCats(copy.getCatIds())) == ["car", "dog", "person"]


def test_to_coco_areas_ids_and_category_order(tmp_path, coco_file):
    _, document = exported(tmp_path, coco_file)
    assert [a["id"] for a in document["annotations"]] == [1, 2, 3, 4, 5, 6]
    assert [a["area"] for a in document["annotations"]][:3] == [1200.0, 379.8125 + 105.0, 1800.0]
    assert document["categories"] == [{"id": 1, "name": "car"}, {"id": 2, "name": "dog"},
                                           {"id": 3, "name": "person"}]  # fmt: skip
    fixed = to_coco(((i.file_name, i.width, i.height, i.annotation) for i in read_coco(coco_file)),
                    categories=["person", "dog", "car"])  # fmt: skip
    assert fixed["categories"][0] == {"id": 1, "name": "person"}
    assert fixed["annotations"][0]["category_id"] == 3
    with pytest.raises(
        AnnotationError, match=r"^a\.jpg: class 'car' is not one of the categories \['dog'\]$"
    ):
        to_coco(
            ((i.file_name, i.width, i.height, i.annotation) for i in read_coco(coco_file)), categories=["dog"]
        )


@OLD_PYCOCOTOOLS_ARRAY
def test_to_coco_writes_a_lone_polygon_with_the_box_around_it(tmp_path):
    annotation = validate_annotation(
        {"images": [{"polygon": [{"id": "p1", "classification": "road",
                                  "data": [[0, 10], [40, 10], [20, 30]]}],
                     "bounding_box": [{"id": "b1", "classification": "car", "data": [1, 2, 3, 4],
                                       "attrs": [{"name": "iscrowd", "value": True}]}]}]},
        where="x",
    )  # fmt: skip
    document = to_coco([("x.jpg", 64, 48, annotation)])
    coco = COCO(str(write(tmp_path, document)))
    car, road = coco.loadAnns(coco.getAnnIds())
    assert (car["bbox"], car["iscrowd"], car["segmentation"]) == ([1, 2, 3, 4], 1, [])
    assert (road["bbox"], road["area"], road["segmentation"]) == (
        [0, 10, 40, 20],
        400.0,
        [[0, 10, 40, 10, 20, 30]],
    )
    assert coco.annToMask(road).sum() > 0
    with pytest.raises(ValueError, match="expected one image item, got 2"):
        to_coco([("y.jpg", 1, 1, AnnotationData(images=[{}, {}]))])


def broken(tmp_path: Path, change) -> Path:
    document = coco_document()
    change(document)
    return write(tmp_path, document)


def ann(document: dict, number: int) -> dict:
    return next(a for a in document["annotations"] if a["id"] == number)


FILE_ERRORS = [
    ("no images", lambda d: d.pop("images"), "not a COCO file: expected an object with an 'images' list"),
    ("image without width", lambda d: d["images"][1].pop("width"), "image 2: missing 'width'"),
    ("image without id", lambda d: d["images"][1].pop("id"), "images[1]: missing 'id'"),
    ("zero height", lambda d: d["images"][0].update(height=0), "image 1: 'height' must be > 0, got 0"),
    ("duplicate image id", lambda d: d["images"][2].update(id=1),
     "image 1: the id is used by another image too"),
    ("category without name", lambda d: d["categories"][1].pop("name"), "category 2: missing 'name'"),
    ("duplicate category name", lambda d: d["categories"][2].update(name="car"),
     "category 5: 'car' is also the name of category 2; "
     "DM v2 names classes, so category names must be unique"),
    ("annotations not a list", lambda d: d.update(annotations={}), "'annotations' must be a list, got {}"),
    ("annotation without id", lambda d: d["annotations"][0].pop("id"), "annotations[0]: missing 'id'"),
    ("annotation without image", lambda d: ann(d, 11).pop("image_id"), "annotation 11: missing 'image_id'"),
    ("annotation without category", lambda d: ann(d, 11).pop("category_id"),
     "annotation 11: missing 'category_id'"),
    ("unknown image", lambda d: ann(d, 12).update(image_id=99),
     "annotation 12: image_id 99 is not the id of an image of the file"),
    ("unknown category", lambda d: ann(d, 12).update(category_id=99),
     "annotation 12: category_id 99 is not the id of a category of the file"),
    ("duplicate annotation id", lambda d: ann(d, 15).update(id=10),
     "annotation 10: the id is used by another annotation too"),
    ("float category id", lambda d: ann(d, 15).update(category_id=2.0),
     "annotation 15: 'category_id' must be int or str, got 2.0"),
    ("annotation id unfit for dm", lambda d: ann(d, 15).update(id="a/15"),
     "annotation a/15: the id names DM v2 annotations (b<id>, p<id>-<n>...), "
     "so it is an integer or letters, digits, '_' and '-'"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), [e[1:] for e in FILE_ERRORS], ids=[e[0] for e in FILE_ERRORS])
def test_a_broken_file_is_refused_naming_the_file_and_the_item(tmp_path, change, message):
    path = broken(tmp_path, change)
    with pytest.raises(AnnotationError) as info:
        read_coco(path)
    assert str(info.value) == f"{path}: {message}"


def test_an_unreadable_or_non_json_file_is_refused(tmp_path):
    with pytest.raises(AnnotationError, match=r"missing\.json: cannot read the COCO file: No such file"):
        read_coco(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(AnnotationError, match=r"bad\.json: not valid JSON: "):
        read_coco(tmp_path / "bad.json")


BBOX = "expected [x, y, width, height] of 4 finite numbers with width and height > 0"
POLYGON = "expected a polygon [x1, y1, x2, y2, ...] of at least 3 points of finite numbers"
IMAGE_ERRORS = [
    ("zero-width box", lambda d: ann(d, 15).update(bbox=[1, 1, 0, 5]),
     f"annotation 15: bbox: {BBOX}, got [1, 1, 0, 5]"),
    ("no box", lambda d: ann(d, 15).pop("bbox"), f"annotation 15: bbox: {BBOX}, got null"),
    ("string in a box", lambda d: ann(d, 15).update(bbox=[1, "1", 2, 5]),
     f'annotation 15: bbox: {BBOX}, got [1, "1", 2, 5]'),
    ("two-point polygon", lambda d: ann(d, 13).update(segmentation=[[50, 40, 100, 40]]),
     f"annotation 13: segmentation[0]: {POLYGON}, got [50, 40, 100, 40]"),
    ("odd polygon", lambda d: ann(d, 13).update(segmentation=[[50, 40, 100, 40, 100, 140, 50]]),
     f"annotation 13: segmentation[0]: {POLYGON}, got [50, 40, 100, 40, 100, 140, 50]"),
    ("nan in the second polygon",
     lambda d: ann(d, 13).update(segmentation=[[50, 40, 100, 40, 100, 140], [float("nan"), 1, 2, 3, 4, 5]]),
     f"annotation 13: segmentation[1]: {POLYGON}, got [NaN, 1, 2, 3, 4, 5]"),
    ("polygon not a list", lambda d: ann(d, 13).update(segmentation=[7]),
     f"annotation 13: segmentation[0]: {POLYGON}, got 7"),
    ("segmentation of another kind", lambda d: ann(d, 13).update(segmentation="mask.png"),
     "annotation 13: segmentation: expected a list of polygons or an RLE object, got 'mask.png'"),
    ("keypoints too short", lambda d: ann(d, 13).update(keypoints=[75, 50, 2]),
     "annotation 13: keypoints: expected [x, y, v] per keypoint, "
     "and category 'person' names the 5 keypoints, got [75, 50, 2]"),
    ("keypoints of a category without any", lambda d: ann(d, 15).update(keypoints=[1, 1, 2]),
     "annotation 15: keypoints: expected [x, y, v] per keypoint, and category 'car' names no keypoints, "
     "got [1, 1, 2]"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"), [e[1:] for e in IMAGE_ERRORS], ids=[e[0] for e in IMAGE_ERRORS]
)
def test_a_broken_annotation_is_an_error_of_its_image_only(tmp_path, change, message):
    path = broken(tmp_path, change)
    first, second, third = read_coco(path)
    with pytest.raises(AnnotationError) as info:
        second.annotation  # noqa: B018 - built on access
    assert str(info.value) == f"{path}: {message}"
    assert first.annotation.images[0].bounding_box
    assert third.annotation.images[0].bounding_box == []


def test_images_are_built_lazily_and_once(coco_file):
    dataset = read_coco(coco_file)
    image = next(iter(dataset))
    assert "annotation" not in vars(image)
    assert image.annotation is image.annotation
    assert repr(image) == "CocoImage(id=1, file_name='a.jpg', width=640, height=480)"


def test_to_coco_merges_a_polygon_only_into_the_one_box_of_its_group():
    def box(i):
        return {"id": f"b{i}", "classification": "car", "data": [i, i, 5, 5]}

    polygon = {"id": "p1", "classification": "car", "data": [[0, 0], [4, 0], [4, 3]]}
    annotation = validate_annotation(
        {
            "images": [
                {
                    "bounding_box": [box(1), box(2), box(3)],
                    "polygon": [polygon],
                    "group": [
                        {"id": "g1", "classification": "pair", "data": ["b1", "b2", "p1"]},
                        {"id": "g2", "classification": "car", "data": ["b3"]},
                    ],
                }
            ]
        },
        where="x",
    )
    anns = to_coco([("x.jpg", 10, 10, annotation)])["annotations"]
    assert [(a["bbox"], a["segmentation"]) for a in anns] == [
        ([1, 1, 5, 5], []),
        ([2, 2, 5, 5], []),
        ([3, 3, 5, 5], []),
        ([0, 0, 4, 3], [[0, 0, 4, 0, 4, 3]]),
    ]
    assert anns[3]["area"] == 6.0


def test_every_refused_box_of_an_image_is_listed(tmp_path):
    def two_bad_boxes(document):
        ann(document, 14).update(bbox=[0, 0, 0, 0])
        ann(document, 15).update(bbox=[1, 1, -1, 5])

    path = broken(tmp_path, two_bad_boxes)
    with pytest.raises(AnnotationError) as info:
        list(read_coco(path))[1].annotation  # noqa: B018 - built on access
    assert str(info.value) == f"{path}: annotation 14: bbox: {BBOX}, got [0, 0, 0, 0] (and 1 more)"
    assert info.value.problems[1] == f"{path}: annotation 15: bbox: {BBOX}, got [1, 1, -1, 5]"
