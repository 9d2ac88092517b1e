"""The ``deployment`` action: serve a registered model until ``synapse job stop <serving run>``.

The SDK's ``DeploymentAction`` starts this plugin's REST server (``POST /inference``) as a
detached process on this machine, recorded as a serving run with health and request metrics;
with ``{"ray_address": "HOST:PORT"}`` it deploys it as a Ray Serve application instead, with the
replicas ``config.yaml`` gives the ``inference`` action (``num_replicas`` or ``autoscaling``).
"""

from synapse_sdk.plugins.categories.neural_net import DeploymentAction as BaseDeploymentAction


class DeploymentAction(BaseDeploymentAction):
    name = "deployment"
