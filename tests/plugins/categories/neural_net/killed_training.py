"""A real training killed mid-way and resumed: the template's train action (``retry: {max_attempts: 3}``
as generated) on the platform's digits, submitted as a job; its worker killed (kill -9) during epoch 4 of 5.

Shared by the local-executor test (``test_train_resume.py``) and the Ray job test
(``tests/execution/ray/test_ray_train_resume.py``).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from synapse_sdk.backend import get_backend
from synapse_sdk.backend.schemas import RunRecord
from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.categories.neural_net.digits import import_digits
from tests.conftest import run_cli

#: Batches of 4: an epoch takes about a second, time enough to kill the worker within epoch 4.
PARAMS = {"dataset": "digits", "epochs": 5, "batch_size": 4}


def retrying_plugin(tmp_path: Path) -> Path:
    """The neural_net template as generated (train has ``retry: {max_attempts: 3}``), and the digits
    in the platform."""
    from synapse_sdk.plugins.config import PluginConfig
    from synapse_sdk.plugins.templates import render_plugin

    plugin = render_plugin("digits", "neural_net", output_dir=tmp_path / "plugins")
    assert PluginConfig.load(plugin).actions["train"].retry.max_attempts == 3
    import_digits(get_backend_client(), tmp_path / "digits")
    return plugin


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(0.02)


def record(run_id: str) -> RunRecord:
    return get_backend().runs.get_run(run_id)


def train_and_kill_in_epoch_4(plugin: Path, run_id: str, env: dict[str, str], home: Path) -> int:
    """Submit the training as job ``run_id``; kill its worker once epoch 3's checkpoint is saved. Its pid."""
    env = {**env, "OMP_NUM_THREADS": "1"}
    submitted = run_cli("plugin", "run", "train", json.dumps(PARAMS), "--job-id", run_id, cwd=plugin, env=env)
    assert submitted.returncode == 0, submitted.stderr
    checkpoints = home / "runs" / run_id / "checkpoints"
    wait_for(lambda: (checkpoints / "epoch-0003.pt").exists(), 180, "the checkpoint of epoch 3")
    worker = record(run_id).attempts[-1].pid
    assert worker is not None
    os.kill(worker, signal.SIGKILL)  # the worker runs on this machine, the Ray cluster's too
    assert not (checkpoints / "epoch-0004.pt").exists()  # killed during epoch 4
    return worker


def check_resumed_at_epoch_4(run_id: str, worker: int, home: Path) -> RunRecord:
    """The run ended SUCCEEDED after two attempts, the second resuming at epoch 4; its record."""
    wait_for(lambda: record(run_id).status.is_terminal, 240, "the retried run to end")
    run = record(run_id)
    assert run.status == "SUCCEEDED", run.error
    first, second = run.attempts
    assert (first.outcome, first.signal, first.pid) == ("crashed", "SIGKILL", worker)
    assert (second.number, second.outcome) == (2, "succeeded")
    assert run.result["resumed_at_epoch"] == 4
    assert run.result["epoch"] == 5
    checkpoints = home / "runs" / run_id / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == [f"epoch-000{n}.pt" for n in range(1, 6)]
    logs = [entry.message for entry in get_backend().runs.get_logs(run_id) if entry.message]
    assert "resuming from the checkpoint of epoch 3 (attempt 2)" in logs
    assert "training for epochs 4-5 of 5" in logs
    assert get_backend_client().get_model(run.result["model"])["run"] == run_id
    return run
