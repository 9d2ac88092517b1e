"""The ``inference`` base action of the ``neural_net`` category."""

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action


class InferenceAction(Action):
    """Run model predictions on data. Subclass it and implement ``start()``."""

    name = "inference"
    category = Category.NEURAL_NET
    method = "restapi"
    is_category_base = True
