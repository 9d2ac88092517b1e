"""Pre-annotation actions: prepare a collection's data units, and turn them into annotation tasks."""

from synapse_sdk.plugins.categories.pre_annotation.pre_annotation import (
    PreAnnotationAction,
    PreAnnotationParams,
)
from synapse_sdk.plugins.categories.pre_annotation.to_task import ToTaskAction, ToTaskParams

__all__ = [
    "PreAnnotationAction",
    "PreAnnotationParams",
    "ToTaskAction",
    "ToTaskParams",
]
