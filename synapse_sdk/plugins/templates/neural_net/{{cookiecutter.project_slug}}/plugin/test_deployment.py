"""Tests of the ``deployment`` action: a detached server for the model, then ``synapse job stop``."""

import subprocess
import sys
from pathlib import Path

import httpx

from .test_inference import encoded_digits

SYNAPSE = str(Path(sys.executable).with_name("synapse"))


def test_deployment_serves_the_model_until_the_job_is_stopped(synapse_run, trained, tmp_path):
    image = encoded_digits(tmp_path)[2]
    run = synapse_run("deployment", {"model": trained.result["model"]})

    served = run.result["serving_run"]
    try:
        reply = httpx.post(run.result["inference"], json={"image": image}, timeout=30)
        assert reply.status_code == 200, reply.text
        assert reply.json() == synapse_run("inference", {"image": image}).result
        assert httpx.get(run.result["url"] + "/health", timeout=10).json()["run_id"] == served
    finally:
        env = {"SYNAPSE_HOME": str(tmp_path / "synapse-home"), "PATH": str(Path(sys.executable).parent)}
        command = [SYNAPSE, "job", "stop", served]
        stopped = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert stopped.returncode == 0, stopped.stderr
    assert f"job {served}: STOPPED" in stopped.stdout
