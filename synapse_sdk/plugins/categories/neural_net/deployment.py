"""The ``deployment`` base action of the ``neural_net`` category."""

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action


class DeploymentAction(Action):
    """Deploy a model to a serving environment. Subclass it and implement ``start()``."""

    name = "deployment"
    category = Category.NEURAL_NET
    method = "restapi"
    is_category_base = True
