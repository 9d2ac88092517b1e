"""The ``gradio`` action: a web page to try the registered model (upload or draw a digit).

``{"launch": true}`` serves the page on http://127.0.0.1:7860 until the run is stopped; without
it the action checks the page's predict function once and returns. Needs Gradio: ``pip install
'synapse-plugin-sdk[gradio]'``.
"""

from synapse_sdk.plugins.categories.neural_net import GradioAction as BaseGradioAction

from .model import load_predictor


class GradioAction(BaseGradioAction):
    name = "gradio"

    def load_predictor(self, path):
        """The model file a train run registered, ready to predict."""
        return load_predictor(path)
