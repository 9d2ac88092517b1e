"""A training job whose worker is killed (kill -9) at epoch 3 of 5 resumes from its checkpoint at epoch 4.

The template's train action, with ``retry: {max_attempts: 3}`` in its config.yaml, runs as a
local background job (``synapse plugin run train --job-id``) on the platform's digits; the
retried attempt, under the same run id and folder, must start at epoch 4 and the run must list
both attempts. (The same on a Ray cluster: ``tests/execution/ray/test_ray_train_resume.py``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.categories.neural_net.killed_training import (
    check_resumed_at_epoch_4,
    retrying_plugin,
    train_and_kill_in_epoch_4,
)


@pytest.mark.slow
def test_a_killed_training_resumes_at_the_epoch_after_its_last_checkpoint(
    tmp_path: Path, synapse_home: Path
) -> None:
    plugin = retrying_plugin(tmp_path)
    env = {"SYNAPSE_HOME": str(synapse_home)}

    worker = train_and_kill_in_epoch_4(plugin, "train-killed-at-3", env, synapse_home)

    check_resumed_at_epoch_4("train-killed-at-3", worker, synapse_home)
