"""Smart-tool actions: AI-assisted automation, here ``auto_label`` (pre-label tasks with a model)."""

from synapse_sdk.plugins.categories.smart_tool.auto_label import (
    AutoLabelAction,
    AutoLabelParams,
    HttpModel,
    OpenCvModel,
)
from synapse_sdk.plugins.categories.smart_tool.detection import Detection, Detector, ImageInput

__all__ = [
    "AutoLabelAction",
    "AutoLabelParams",
    "Detection",
    "Detector",
    "HttpModel",
    "ImageInput",
    "OpenCvModel",
]
