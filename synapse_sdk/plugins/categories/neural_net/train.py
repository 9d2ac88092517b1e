"""The ``train`` base action of the ``neural_net`` category."""

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action


class TrainAction(Action):
    """Train a model on a dataset. Subclass it and implement ``start()``."""

    name = "train"
    category = Category.NEURAL_NET
    method = "job"
    is_category_base = True
