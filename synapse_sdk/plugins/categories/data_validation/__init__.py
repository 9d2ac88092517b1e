"""Data-validation actions: check a project or a ground-truth version and gate a pipeline on it."""

from synapse_sdk.plugins.categories.data_validation.checks import Context, Item
from synapse_sdk.plugins.categories.data_validation.report import Problem, Report
from synapse_sdk.plugins.categories.data_validation.validation import ValidationAction, ValidationParams

__all__ = [
    "Context",
    "Item",
    "Problem",
    "Report",
    "ValidationAction",
    "ValidationParams",
]
