"""The ``post_annotation`` base action of the ``post_annotation`` category."""

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action


class PostAnnotationAction(Action):
    """Process completed annotations. Subclass it and implement ``start()``."""

    name = "post_annotation"
    category = Category.POST_ANNOTATION
    method = "job"
    is_category_base = True
