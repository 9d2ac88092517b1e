"""The ``auto_label`` base action of the ``smart_tool`` category."""

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action


class AutoLabelAction(Action):
    """Label data automatically with a model. Subclass it and implement ``start()``."""

    name = "auto_label"
    category = Category.SMART_TOOL
    method = "task"
    is_category_base = True
