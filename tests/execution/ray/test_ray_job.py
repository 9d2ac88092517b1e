"""``job`` actions through the Ray Jobs API: submission id = job id; get/logs/stop map onto Ray."""

from __future__ import annotations

import json
import re

import pytest

from synapse_sdk.backend.schemas import RunStatus
from tests.conftest import run_cli
from tests.execution.ray.helpers import wait_for_end, wait_until

pytestmark = pytest.mark.ray

SLOW = """\
import time
from synapse_sdk.plugins.categories.neural_net import TrainAction

class Slow(TrainAction):
    name = "train"

    def start(self):
        for step in range(600):
            self.run.set_progress(step + 1, 600, "training")
            time.sleep(0.1)
        return {"status": "finished"}
"""
SLOW_CONFIG = """\
code: slow
name: Slow
version: 0.1.0
category: neural_net
actions:
  train:
    entrypoint: plugin.slow.Slow
    method: job
    num_cpus: 0.5
"""


def _ray_job(ray_cluster, job_id):  # type: ignore[no-untyped-def]
    from ray.job_submission import JobSubmissionClient

    return JobSubmissionClient(ray_cluster.dashboard).get_job_info(job_id)


def test_spec_train_action_runs_as_a_ray_job(ray_cluster, demo_plugin, store):
    params = json.dumps({"dataset_path": "/data/images", "epochs": 4})
    result = run_cli(
        "plugin", "run", "train", params, "--path", str(demo_plugin), "--job-id", "train-on-ray",
        env=ray_cluster.env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"job_id": "train-on-ray", "status": "PENDING"}
    run = wait_for_end(store, "train-on-ray")
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert run.result == {"status": "success", "final_loss": 0.5}
    assert run.is_job and run.method == "job"
    assert run.extra["ray"]["submission_id"] == "train-on-ray"
    assert run.progress["training"] == {"current": 4.0, "total": 4.0, "percent": 100.0}
    # the record ends as the action returns; Ray's job a moment later, when the process exits
    wait_until(lambda: _ray_job(ray_cluster, "train-on-ray").status.value == "SUCCEEDED", 30, "Ray's job")
    shown = run_cli("job", "get", "train-on-ray", "--json")
    assert json.loads(shown.stdout)["status"] == "SUCCEEDED"
    logs = run_cli("job", "logs", "train-on-ray")
    assert "Starting training..." in logs.stdout and "Training completed!" in logs.stdout


def test_foreground_ray_job_prints_the_result(ray_cluster, demo_plugin, store):
    params = json.dumps({"dataset_path": "/data", "epochs": 2})
    result = run_cli("plugin", "run", "train", params, "--path", str(demo_plugin), env=ray_cluster.env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "success"
    (run,) = store.list_runs()
    assert run.status is RunStatus.SUCCEEDED
    assert run.extra["ray"]["kind"] == "job"


def test_stop_maps_onto_the_ray_job(ray_cluster, make_plugin, store):
    plugin = make_plugin(SLOW_CONFIG, {"slow.py": SLOW})
    result = run_cli("plugin", "run", "train", "{}", "--path", str(plugin), "--job-id", "slow-1",
                     env=ray_cluster.env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    wait_until(lambda: store.get_run("slow-1").progress, what="the job to report progress")
    stopped = run_cli("job", "stop", "slow-1", "--grace", "5")
    assert stopped.returncode == 0, stopped.stderr
    assert "job slow-1: STOPPED" in stopped.stdout
    run = store.get_run("slow-1")
    assert run.status is RunStatus.STOPPED
    assert run.progress["training"]["percent"] < 100
    wait_until(lambda: _ray_job(ray_cluster, "slow-1").status.value == "STOPPED", 30, "Ray to stop the job")


def test_job_that_cannot_install_its_requirements_fails_with_rays_reason(ray_cluster, demo_plugin, store):
    (demo_plugin / "requirements.txt").write_text("synapse-no-such-package-zz==9.9.9\n")
    params = json.dumps({"dataset_path": "/data"})
    result = run_cli("plugin", "run", "train", params, "--path", str(demo_plugin), "--job-id", "bad-env",
                     env=ray_cluster.env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    run = wait_for_end(store, "bad-env", timeout=120)
    assert run.status is RunStatus.FAILED
    assert run.started_at is None  # the action never started
    assert run.error.startswith("Ray job failed: ")
    assert "synapse-no-such-package-zz" in run.error
    assert _ray_job(ray_cluster, "bad-env").status.value == "FAILED"
    logs = run_cli("job", "logs", "bad-env")
    assert "[ray]" in logs.stdout and "synapse-no-such-package-zz" in logs.stdout
    shown = run_cli("job", "get", "bad-env")
    assert "FAILED" in shown.stdout and "synapse-no-such-package-zz" in shown.stdout


TOKEN_SOURCE = """\
from pydantic import BaseModel
from synapse_sdk.plugins.categories.neural_net import TrainAction

class Params(BaseModel):
    api_token: str

class Train(TrainAction):
    name = "train"
    params_model = Params

    def start(self):
        return {"token_ok": self.params["api_token"] == "tok-s3cr3t-4711"}
"""


def test_a_jobs_params_reach_it_but_not_rays_dashboard(ray_cluster, make_plugin, store):
    import httpx

    config = SLOW_CONFIG.replace("plugin.slow.Slow", "plugin.token.Train")
    plugin = make_plugin(config, {"token.py": TOKEN_SOURCE})
    result = run_cli("plugin", "run", "train", '{"api_token": "tok-s3cr3t-4711"}', "--path", str(plugin),
                     "--job-id", "token-1", env=ray_cluster.env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    run = wait_for_end(store, "token-1")
    assert (run.status, run.result) == (RunStatus.SUCCEEDED, {"token_ok": True})
    assert run.params == {"api_token": "***"}
    shown = httpx.get(f"{ray_cluster.dashboard}/api/jobs/token-1").text  # what the dashboard shows
    assert "tok-s3cr3t-4711" not in shown
    env_vars = json.loads(shown)["runtime_env"]["env_vars"]
    assert re.fullmatch(r"synapse_invocation_[0-9a-f]{32}", env_vars["SYNAPSE_INVOCATION"])  # a name
