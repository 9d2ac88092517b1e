"""Post-annotation actions: merge annotators' work by consensus into reviewed tasks and ground truth."""

from synapse_sdk.plugins.categories.post_annotation.post_annotation import (
    PostAnnotationAction,
    PostAnnotationParams,
)

__all__ = [
    "PostAnnotationAction",
    "PostAnnotationParams",
]
