"""The ``inference`` action: the registered model behind ``POST /inference`` (``synapse plugin run serve``).

The SDK's ``InferenceAction`` does the serving: the model is loaded once per server (``--env
MODEL_ID=<id>``, else this plugin's newest), a request brings ``{"image": "<base64 PNG>"}``,
``{"images": [...]}`` (auto_label's HTTP model shape), ``{"data_unit": <id>}`` or ``{"project":
<id>}`` (predicts every task and writes the predictions). This class only says how to load the
model file: with ``plugin/model.py``.
"""

from synapse_sdk.plugins.categories.neural_net import InferenceAction as BaseInferenceAction

from .model import load_predictor


class InferenceAction(BaseInferenceAction):
    name = "inference"

    def load_predictor(self, path):
        """The model file a train run registered, ready to predict."""
        return load_predictor(path)
