"""Neural-network actions: train, tune, test, inference, deployment and gradio."""

from synapse_sdk.plugins.categories.neural_net.deployment import DeploymentAction
from synapse_sdk.plugins.categories.neural_net.gradio import GradioAction
from synapse_sdk.plugins.categories.neural_net.inference import InferenceAction
from synapse_sdk.plugins.categories.neural_net.test import TestAction
from synapse_sdk.plugins.categories.neural_net.train import TrainAction
from synapse_sdk.plugins.categories.neural_net.tune import TuneAction

__all__ = [
    "DeploymentAction",
    "GradioAction",
    "InferenceAction",
    "TestAction",
    "TrainAction",
    "TuneAction",
]
