"""The ``gradio`` base action of the ``neural_net`` category."""

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action


class GradioAction(Action):
    """Serve an interactive web interface for a model. Subclass it and implement ``start()``."""

    name = "gradio"
    category = Category.NEURAL_NET
    method = "restapi"
    is_category_base = True
