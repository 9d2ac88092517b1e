"""Upload actions: send files to a storage provider."""

from synapse_sdk.plugins.categories.upload.actions.upload import UploadAction

__all__ = [
    "UploadAction",
]
