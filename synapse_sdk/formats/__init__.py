"""Annotation formats: DM v2, the platform's annotation data, and the dataset formats read and written.

``docs/annotation-format.md`` describes DM v2 with examples, its rules and their messages,
and how COCO, YOLO, Pascal VOC and ImageFolder map onto it.
"""

from synapse_sdk.formats.coco import CocoCategory, CocoDataset, CocoImage, read_coco, to_coco
from synapse_sdk.formats.datasets import DatasetImage, ImageDataset
from synapse_sdk.formats.dm import (
    Annotation,
    AnnotationData,
    Attribute,
    BoundingBox,
    Group,
    ImageAnnotations,
    Keypoint,
    Polygon,
    Polyline,
    Relation,
    Tag,
    dump,
    validate_annotation,
)
from synapse_sdk.formats.imagefolder import read_imagefolder
from synapse_sdk.formats.readers import READERS, read_folder
from synapse_sdk.formats.voc import read_voc
from synapse_sdk.formats.writers import WRITERS, FormatWriter, Sample, get_writer
from synapse_sdk.formats.yolo import read_yolo

__all__ = [
    "READERS",
    "WRITERS",
    "Annotation",
    "AnnotationData",
    "Attribute",
    "BoundingBox",
    "CocoCategory",
    "CocoDataset",
    "CocoImage",
    "DatasetImage",
    "FormatWriter",
    "Group",
    "ImageAnnotations",
    "ImageDataset",
    "Keypoint",
    "Polygon",
    "Polyline",
    "Relation",
    "Sample",
    "Tag",
    "dump",
    "get_writer",
    "read_coco",
    "read_folder",
    "read_imagefolder",
    "read_voc",
    "read_yolo",
    "to_coco",
    "validate_annotation",
]
