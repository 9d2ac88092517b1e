"""The ``test`` base action of the ``neural_net`` category."""

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action


class TestAction(Action):
    """Validate model performance and accuracy. Subclass it and implement ``start()``."""

    name = "test"
    category = Category.NEURAL_NET
    method = "job"
    is_category_base = True
