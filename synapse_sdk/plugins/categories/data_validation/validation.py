"""The ``validation`` base action of the ``data_validation`` category."""

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action


class ValidationAction(Action):
    """Check data quality and integrity. Subclass it and implement ``start()``."""

    name = "validation"
    category = Category.DATA_VALIDATION
    method = "task"
    is_category_base = True
