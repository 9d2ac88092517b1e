"""Upload actions: files into a storage and data units into a data collection, through a ``BaseUploader``."""

from synapse_sdk.plugins.categories.upload.actions.upload import UploadAction, UploadParams
from synapse_sdk.plugins.categories.upload.enums import UploadStatus
from synapse_sdk.plugins.categories.upload.templates.plugin import BaseUploader

__all__ = [
    "BaseUploader",
    "UploadAction",
    "UploadParams",
    "UploadStatus",
]
