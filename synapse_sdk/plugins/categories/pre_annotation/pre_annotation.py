"""The ``pre_annotation`` base action of the ``pre_annotation`` category."""

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action


class PreAnnotationAction(Action):
    """Prepare data for annotation. Subclass it and implement ``start()``."""

    name = "pre_annotation"
    category = Category.PRE_ANNOTATION
    method = "job"
    is_category_base = True
