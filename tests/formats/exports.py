"""Samples for the dataset writers: scikit-image's photos and their hand-drawn boxes, as an export gives them.

``photo_samples`` turns the COCO sample set of ``tests/clients/samples.py`` into
:class:`~synapse_sdk.formats.writers.Sample`s (DM v2 read by ``read_coco``, a split each);
``export`` plays the export pipeline: copies each image to ``image_path``, writes, closes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from synapse_sdk.formats import AnnotationData, Sample, dump, get_writer, read_coco, validate_annotation
from tests.clients.samples import COCO, write_samples

#: The split each photo goes to when an export has splits.
SPLITS = {"astronaut.jpg": "train", "chelsea.jpg": "train", "coffee.jpg": "val", "rocket.jpg": "test"}
#: The export's classes, in the project configuration's order.
CLASSES = [c["name"] for c in COCO["categories"]]

Pair = tuple[Sample, Path]


def write_photos(folder: Path) -> tuple[Path, Path]:
    """The four photos as JPEG files in ``folder/images``, and their COCO file."""
    return write_samples(folder)


def photo_samples(photos: tuple[Path, Path], *, splits: bool = True, boxes_only: bool = False) -> list[Pair]:
    """The photos (``write_photos``' folder and COCO file) as samples in COCO order, with their files."""
    images, coco = photos
    pairs = []
    for index, image in enumerate(read_coco(coco)):
        data = dump(image.annotation)
        if boxes_only:
            data["images"][0].update(polygon=[], group=[])
            data["classification"].pop("polygon", None)
            data["classification"].pop("group", None)
        sample = Sample(
            index=index,
            id=str(100 + index),
            file_name=f"{index:06d}.jpg",
            width=image.width,
            height=image.height,
            split=SPLITS[image.file_name] if splits else None,
            annotation=validate_annotation(data, where=image.file_name),
        )
        pairs.append((sample, images / image.file_name))
    return pairs


def with_annotation(pair: Pair, data: dict, **changes: object) -> Pair:
    """The pair with another annotation (and other sample fields)."""
    sample, path = pair
    fields = {**sample.__dict__, "annotation": validate_annotation(data, where="test"), **changes}
    return Sample(**fields), path


def export(fmt: str, root: Path, pairs: Iterable[Pair], classes: Sequence[str] = CLASSES) -> list[Path]:
    """What the export pipeline does: each image copied to ``image_path``, written; then ``close()``."""
    writer = get_writer(fmt)(root, classes)
    for sample, source in pairs:
        target = root / writer.image_path(sample)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        writer.write(sample)
    return writer.close()


def geometry(annotation: AnnotationData | dict) -> list[tuple]:
    """What a round trip keeps, in a comparable order: (tool, class, coordinates rounded to 1/100 px)."""
    data = annotation if isinstance(annotation, dict) else dump(annotation)
    out = []
    for image in data["images"]:
        for tool in ("bounding_box", "polygon", "keypoint"):
            for item in image.get(tool, []):
                flat = item["data"] if tool != "polygon" else [v for point in item["data"] for v in point]
                out.append((tool, item["classification"], tuple(round(v, 2) for v in flat)))
        out.extend(("tags", tag["classification"], ()) for tag in image.get("tags", []))
    return sorted(out)


def boxes(annotation: AnnotationData | dict) -> list[tuple[str, tuple[float, ...]]]:
    """The (class, box) pairs of an annotation, sorted."""
    return [(name, data) for tool, name, data in geometry(annotation) if tool == "bounding_box"]


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones too) by relative path: a folder's exact state."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
