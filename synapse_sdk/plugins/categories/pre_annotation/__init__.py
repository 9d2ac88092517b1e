"""Pre-annotation actions: prepare data and turn it into annotation tasks."""

from synapse_sdk.plugins.categories.pre_annotation.pre_annotation import PreAnnotationAction
from synapse_sdk.plugins.categories.pre_annotation.to_task import ToTaskAction

__all__ = [
    "PreAnnotationAction",
    "ToTaskAction",
]
