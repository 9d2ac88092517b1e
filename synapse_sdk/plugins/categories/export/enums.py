"""``ExportStatus``: the outcome of exporting one file."""

from enum import StrEnum


class ExportStatus(StrEnum):
    """What happened to one exported file, as recorded with ``run.export_log_json_file``."""

    SUCCESS = "success"
    FAILED = "failed"
    STAND_BY = "stand_by"
