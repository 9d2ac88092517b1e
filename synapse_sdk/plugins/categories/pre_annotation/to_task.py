"""The ``to_task`` base action of the ``pre_annotation`` category."""

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action


class ToTaskAction(Action):
    """Turn data into annotation tasks. Subclass it and implement ``start()``."""

    name = "to_task"
    category = Category.PRE_ANNOTATION
    method = "job"
    is_category_base = True
