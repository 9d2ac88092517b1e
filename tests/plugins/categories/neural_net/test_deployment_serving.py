"""The template's ``deployment`` on this machine: a detached server recorded as a serving run, then stopped.

Everything goes through the real CLI, as a user types it: ``synapse plugin run deployment``,
requests to the URL it prints, ``synapse job get`` for the serving run's health and request
metrics, ``synapse job stop`` to take it down. (On a Ray cluster: tests/execution/ray/.)
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.conftest import run_cli
from tests.plugins.categories.neural_net.served_digits import (
    digits_model_file,
    digits_plugin,
    held_out,
    job_get,
    job_stop,
    model_module,
    png_base64,
    registered_model,
)

__all__ = ["digits_model_file", "digits_plugin", "held_out", "model_module", "registered_model"]

pytestmark = pytest.mark.slow


def test_a_deployed_model_serves_until_its_job_is_stopped(
    digits_plugin, registered_model, held_out, synapse_home
) -> None:
    images, labels = held_out
    env = {"SYNAPSE_HOME": str(synapse_home), "OMP_NUM_THREADS": "1"}
    deployed = run_cli("plugin", "run", "deployment", json.dumps({"model": registered_model["id"]}),
                       cwd=digits_plugin, env=env)  # fmt: skip
    assert deployed.returncode == 0, deployed.stderr
    info = json.loads(deployed.stdout)
    serving = info["serving_run"]
    assert info["model"] == registered_model["id"]
    assert info["routes"]["inference"] == "/inference"
    try:
        right = 0
        for image, label in zip(images[:20], labels[:20], strict=True):
            reply = httpx.post(info["inference"], json={"image": png_base64(image)}, timeout=30)
            assert reply.status_code == 200, reply.text
            right += reply.json()["class"] == label
        assert right >= 16
        assert httpx.get(info["url"] + "/health", timeout=5).json()["run_id"] == serving
        deadline = time.monotonic() + 15
        record = job_get(serving, synapse_home)
        while record["metrics"].get("requests", {}).get("total", 0) < 20 and time.monotonic() < deadline:
            time.sleep(0.3)
            record = job_get(serving, synapse_home)
        assert record["status"] == "RUNNING"
        assert record["method"] == "restapi"
        assert record["metrics"]["requests"]["total"] == 20
        assert record["metrics"]["POST /inference"]["latency_p50_ms"] > 0
    finally:
        stopped = job_stop(serving, synapse_home)
    assert f"job {serving}: STOPPED" in stopped
    with pytest.raises(httpx.TransportError):
        httpx.get(info["url"] + "/health", timeout=2)
    assert job_get(serving, synapse_home)["status"] == "STOPPED"


def test_deploying_a_model_that_does_not_exist_starts_nothing(digits_plugin, synapse_home) -> None:
    env = {"SYNAPSE_HOME": str(synapse_home)}
    deployed = run_cli("plugin", "run", "deployment", '{"model": 999}', cwd=digits_plugin, env=env)

    assert deployed.returncode == 2
    assert "params.model: no registered model 999" in deployed.stderr
    listed = run_cli("job", "list", "--json", env=env)
    assert [run["action"] for run in json.loads(listed.stdout)] == ["deployment"]
