"""ImageFolder written from DM v2 tags, checked by datumaro's reader, read back by ``read_imagefolder``."""

from __future__ import annotations

from pathlib import Path

import pytest

from synapse_sdk.errors import AnnotationError
from synapse_sdk.formats import read_imagefolder
from synapse_sdk.formats.imagefolder import ImageFolderWriter
from tests.formats.exports import CLASSES, export, geometry, photo_samples, with_annotation

#: A class for each photo, as its one tag.
TAGS = ["face", "eye", "cup", "rocket"]


def tagged(photos, *, splits: bool = True) -> list:
    return [
        with_annotation(pair, {"images": [{"tags": [{"id": "t1", "classification": label}]}]})
        for pair, label in zip(photo_samples(photos, splits=splits), TAGS, strict=True)
    ]


@pytest.mark.parametrize("splits", [True, False], ids=["splits", "no-splits"])
def test_datumaro_reads_one_label_per_image(tmp_path, photos, splits):
    import datumaro
    from datumaro.components.annotation import AnnotationType

    # datumaro wants the same class folders in every split (and none empty): two classes, each in both.
    labels = ["face", "eye", "face", "eye"]
    pairs = [
        with_annotation(pair, {"images": [{"tags": [{"id": "t1", "classification": label}]}]},
                        split=("train", "train", "val", "val")[n] if splits else None)
        for n, (pair, label) in enumerate(zip(photo_samples(photos), labels, strict=True))
    ]  # fmt: skip
    assert export("imagefolder", tmp_path, pairs) == []
    # datumaro calls the layout ImageNet: <label>/<image>, with subset folders around it.
    dataset = datumaro.Dataset.import_from(
        str(tmp_path), "imagenet_with_subset_dirs" if splits else "imagenet"
    )
    names = [label.name for label in dataset.categories()[AnnotationType.label].items]
    assert names == ["eye", "face"]
    items = {item.id: item for item in dataset}
    assert len(items) == len(pairs) == 4
    for (sample, _), label in zip(pairs, labels, strict=True):
        item = items[f"{label}:{Path(sample.file_name).stem}"]
        assert item.subset == (sample.split or "default")
        assert [names[a.label] for a in item.annotations] == [label]
        assert item.media.size == (sample.height, sample.width)


def test_every_split_gets_the_class_folders_of_the_others(tmp_path, photos):
    export("imagefolder", tmp_path, tagged(photos))
    for split in ("train", "val", "test"):
        assert sorted(p.name for p in (tmp_path / split).iterdir()) == sorted(TAGS)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.jpg")) == [
        "test/rocket/000003.jpg", "train/eye/000001.jpg", "train/face/000000.jpg", "val/cup/000002.jpg",
    ]  # fmt: skip


def test_tags_round_trip_through_read_imagefolder(tmp_path, photos):
    pairs = tagged(photos)
    export("imagefolder", tmp_path, pairs)
    assert (tmp_path / "train/face/000000.jpg").is_file()
    dataset = read_imagefolder(tmp_path)
    assert (dataset.format, len(dataset), dataset.category_names) == ("ImageFolder", 4, sorted(TAGS))
    assert dataset.classification == {"tags": sorted(TAGS)}
    read = {Path(image.file_name).name: image for image in dataset}
    for sample, _ in pairs:
        image = read[sample.file_name]
        assert (image.split, image.width, image.height) == (sample.split, sample.width, sample.height)
        assert geometry(image.annotation) == geometry(sample.annotation)


def test_an_image_whose_annotation_names_one_class_goes_to_that_class(tmp_path, photos):
    chelsea = photo_samples(photos, splits=False)[1]  # two boxes, both "eye"
    writer = ImageFolderWriter(tmp_path, CLASSES)
    assert writer.image_path(chelsea[0]) == Path("eye/000001.jpg")


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ({}, "found 0 classes (none); give the image exactly one tag"),
        ({"tags": [{"id": "t1", "classification": "cup"}, {"id": "t2", "classification": "face"}]},
         "found 2 tags ('cup', 'face')"),
        ({"bounding_box": [{"id": "b1", "classification": "cup", "data": [0, 0, 5, 5]},
                           {"id": "b2", "classification": "face", "data": [0, 0, 5, 5]}]},
         "found 2 classes ('cup', 'face')"),
    ],
    ids=["nothing", "two-tags", "two-classes"],
)  # fmt: skip
def test_an_image_without_exactly_one_class_fails_alone(tmp_path, photos, image, message):
    sample, _ = with_annotation(photo_samples(photos)[0], {"images": [image]})
    writer = ImageFolderWriter(tmp_path, CLASSES)
    with pytest.raises(AnnotationError) as raised:
        writer.write(sample)
    assert str(raised.value).startswith(
        "item 100 (000000.jpg): ImageFolder needs one class per image, " + message
    )


def test_a_class_that_cannot_name_a_folder_is_refused(tmp_path, photos):
    sample, _ = with_annotation(
        photo_samples(photos)[0], {"images": [{"tags": [{"id": "t", "classification": "a/b"}]}]}
    )
    with pytest.raises(AnnotationError, match=r"class 'a/b' cannot name a folder"):
        ImageFolderWriter(tmp_path, ["a/b"]).image_path(sample)


def make(root: Path, *files: str) -> None:
    from PIL import Image

    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".png":
            Image.new("RGB", (30, 20)).save(path)
        else:
            path.write_text("not an image")


def test_the_reader_takes_class_folders_sorted_skipping_hidden_and_other_files(tmp_path):
    make(tmp_path, "dog/a.png", "dog/puppies/b.png", "cat/c.png", "cat/.hidden.png", ".cache/d.png",
         "cat/notes.txt", "README.md")  # fmt: skip
    (tmp_path / "bird").mkdir()
    dataset = read_imagefolder(tmp_path)
    assert dataset.category_names == ["bird", "cat", "dog"]
    assert [(i.file_name, i.split, i.annotation.images[0].tags[0].classification) for i in dataset] == [
        ("cat/c.png", None, "cat"), ("dog/a.png", None, "dog"), ("dog/puppies/b.png", None, "dog"),
    ]  # fmt: skip


def test_an_image_outside_a_class_folder_is_refused(tmp_path):
    make(tmp_path, "train/dog/a.png", "train/b.png")
    with pytest.raises(
        AnnotationError, match=r"train/b.png: an image outside a class folder; .* <split>/<class>/"
    ):
        read_imagefolder(tmp_path)
    make(tmp_path, "c.png")
    with pytest.raises(AnnotationError, match=r"c.png: an image outside a class folder"):
        read_imagefolder(tmp_path)


def test_split_and_class_folders_side_by_side_are_refused(tmp_path):
    make(tmp_path, "train/dog/a.png", "cat/b.png")
    with pytest.raises(
        AnnotationError, match="folders train look like splits and cat like classes; keep either"
    ):
        read_imagefolder(tmp_path)
