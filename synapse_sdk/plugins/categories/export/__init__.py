"""Export actions: turn annotated items into files in a storage, through a ``BaseExporter``."""

from synapse_sdk.plugins.categories.export.actions.export import ExportAction, ExportParams
from synapse_sdk.plugins.categories.export.enums import ExportStatus
from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

__all__ = [
    "BaseExporter",
    "ExportAction",
    "ExportParams",
    "ExportStatus",
]
