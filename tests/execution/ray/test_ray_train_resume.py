"""A Ray job of a real training, its worker killed (kill -9) during epoch 4 of 5: tried again by the job's
driver under the same run, it resumes from the epoch-3 checkpoint (see ``killed_training.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.categories.neural_net.killed_training import (
    check_resumed_at_epoch_4,
    retrying_plugin,
    train_and_kill_in_epoch_4,
)

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def test_a_killed_training_on_ray_resumes_at_the_epoch_after_its_last_checkpoint(
    ray_cluster, tmp_path: Path, synapse_home: Path
) -> None:
    plugin = retrying_plugin(tmp_path)

    worker = train_and_kill_in_epoch_4(plugin, "ray-train-killed", ray_cluster.env, synapse_home)

    run = check_resumed_at_epoch_4("ray-train-killed", worker, synapse_home)
    assert run.extra["ray"]["submission_id"] == "ray-train-killed"  # one Ray job, one run
