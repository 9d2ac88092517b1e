"""Fixtures of this plugin's tests: a tiny digits dataset in the test's platform, a model trained on it."""

import pytest


@pytest.fixture
def digits(synapse_client, tmp_path):
    """Eight images of each digit imported as ground-truth dataset ``digits`` (its import report)."""
    from synapse_sdk.plugins.categories.neural_net.digits import import_digits

    return import_digits(synapse_client, tmp_path / "digits", per_class=8)


@pytest.fixture
def trained(synapse_run, digits):
    """A train run of two epochs on ``digits``: it registered a model."""
    return synapse_run("train", {"dataset": digits.ground_truth_dataset, "epochs": 2})
