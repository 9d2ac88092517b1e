"""Annotation formats: DM v2, the platform's annotation data, and COCO read into it and written from it.

``docs/annotation-format.md`` describes DM v2 with examples, its rules and their messages,
and how COCO maps onto it.
"""

from synapse_sdk.formats.coco import CocoCategory, CocoDataset, CocoImage, read_coco, to_coco
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

__all__ = [
    "Annotation",
    "AnnotationData",
    "Attribute",
    "BoundingBox",
    "CocoCategory",
    "CocoDataset",
    "CocoImage",
    "Group",
    "ImageAnnotations",
    "Keypoint",
    "Polygon",
    "Polyline",
    "Relation",
    "Tag",
    "dump",
    "read_coco",
    "to_coco",
    "validate_annotation",
]
