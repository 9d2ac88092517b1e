"""The ``tune`` base action of the ``neural_net`` category."""

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action


class TuneAction(Action):
    """Search hyperparameters for a model. Subclass it and implement ``start()``."""

    name = "tune"
    category = Category.NEURAL_NET
    method = "job"
    is_category_base = True
