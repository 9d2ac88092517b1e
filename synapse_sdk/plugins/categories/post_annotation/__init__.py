"""Post-annotation actions: process and validate completed annotations."""

from synapse_sdk.plugins.categories.post_annotation.post_annotation import PostAnnotationAction

__all__ = [
    "PostAnnotationAction",
]
