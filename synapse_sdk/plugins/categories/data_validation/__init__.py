"""Data-validation actions: data quality and integrity checks."""

from synapse_sdk.plugins.categories.data_validation.validation import ValidationAction

__all__ = [
    "ValidationAction",
]
