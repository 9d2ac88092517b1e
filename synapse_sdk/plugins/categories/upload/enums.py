"""``UploadStatus``: the outcome of one uploaded file or data unit, as the run's upload log records it."""

from enum import StrEnum


class UploadStatus(StrEnum):
    """``success`` (sent now), ``skipped`` (the storage or collection holds it already), ``failed``."""

    SUCCESS = "success"
    SKIPPED = "skipped"
    FAILED = "failed"
