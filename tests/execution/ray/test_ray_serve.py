"""``restapi`` actions on Ray Serve: routes per plugin version, 422, a killed replica, stop."""

from __future__ import annotations

import json
import os
import signal

import httpx
import pytest

from synapse_sdk.backend.schemas import RunStatus
from tests.conftest import run_cli
from tests.execution.ray.helpers import wait_until

pytestmark = pytest.mark.ray

CONFIG = """\
code: scorer
name: Scorer
version: 2.1.0
category: neural_net
actions:
  score:
    entrypoint: plugin.score.Score
    method: restapi
    description: Score a text
    num_cpus: 0.25
    num_replicas: 1
  train:
    entrypoint: plugin.score.Train
    method: job
"""
SOURCE = """\
import os
from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.neural_net import InferenceAction, TrainAction

class Params(BaseModel):
    text: str
    times: int = Field(1, ge=1, le=10)

class Score(InferenceAction):
    name = "score"
    params_model = Params

    def setup(self):
        self.weight = len(os.environ.get("SCORE_WEIGHT", "ab"))  # loaded once per replica

    def start(self):
        return {"score": len(self.params["text"]) * self.params["times"] * self.weight, "pid": os.getpid()}

class Train(TrainAction):
    name = "train"

    def start(self):
        return {}
"""


def test_restapi_action_on_ray_serve(ray_cluster, make_plugin, store):
    plugin = make_plugin(CONFIG, {"score.py": SOURCE})
    deployed = run_cli(
        "plugin", "run", "serve", "--path", str(plugin), "--port", str(ray_cluster.serve_port),
        "--env", "SCORE_WEIGHT=abc", env=ray_cluster.env, timeout=240,
    )  # fmt: skip
    assert deployed.returncode == 0, deployed.stderr
    info = json.loads(deployed.stdout)
    base = f"http://127.0.0.1:{ray_cluster.serve_port}/scorer/2.1.0"
    assert info["url"] == base and info["routes"] == {"score": "/scorer/2.1.0/score"}
    run_id = info["run_id"]

    ok = httpx.post(f"{base}/score", json={"text": "hello", "times": 2}, timeout=30)
    assert ok.status_code == 200, ok.text
    assert ok.json()["score"] == 30
    bad = httpx.post(f"{base}/score", json={"times": 99}, timeout=30)
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {("body", "text"), ("body", "times")}
    assert httpx.get(f"{base}/health", timeout=30).json()["run_id"] == run_id
    assert "/score" in httpx.get(f"{base}/openapi.json", timeout=30).json()["paths"]

    run = store.get_run(run_id)
    assert run.status is RunStatus.RUNNING
    assert run.method == "restapi" and run.extra["ray"]["app"] == "scorer-2.1.0"

    def both_requests():  # the two may fall into two of the replica's 1 s report windows
        requests = store.get_run(run_id).metrics.get("requests") or {}
        return requests if requests.get("total", 0) >= 2 else None

    requests = wait_until(both_requests, what="request metrics for both requests")
    assert requests["total"] == 2 and requests["errors_total"] == 1
    logged = [e.data for e in store.get_logs(run_id) if e.event == "request"]
    assert {(d["route"], d["status"]) for d in logged} == {("/score", 200), ("/score", 422)}

    # A killed replica: Serve starts a new one, and the serving run records it.
    first_pid = ok.json()["pid"]
    os.kill(first_pid, signal.SIGKILL)

    def restarted():  # type: ignore[no-untyped-def]
        starts = [e.data for e in store.get_logs(run_id) if e.event == "replica_started"]
        return [s for s in starts if s["pid"] != first_pid]

    (replacement,) = wait_until(restarted, timeout=90, what="Serve to restart the replica")
    assert replacement["start"] == 2
    again = wait_until(lambda: _post_ok(f"{base}/score"), timeout=60, what="the new replica to answer")
    assert again["pid"] != first_pid
    assert store.get_run(run_id).status is RunStatus.RUNNING

    stopped = run_cli("job", "stop", run_id, env=ray_cluster.env)
    assert stopped.returncode == 0, stopped.stderr
    assert f"job {run_id}: STOPPED" in stopped.stdout
    assert httpx.post(f"{base}/score", json={"text": "x"}, timeout=30).status_code == 404


def _post_ok(url: str) -> dict | None:
    try:
        reply = httpx.post(url, json={"text": "hello"}, timeout=10)
    except httpx.HTTPError:
        return None
    return reply.json() if reply.status_code == 200 else None


def test_failing_setup_ends_the_serving_run_failed_with_the_reason(ray_cluster, make_plugin, store):
    source = SOURCE.replace(
        'self.weight = len(os.environ.get("SCORE_WEIGHT", "ab"))', 'raise RuntimeError("model file missing")'
    )
    plugin = make_plugin(CONFIG.replace("code: scorer", "code: broken"), {"score.py": source})
    deployed = run_cli("plugin", "run", "serve", "--path", str(plugin), "--port", str(ray_cluster.serve_port),
                       env=ray_cluster.env, timeout=240)  # fmt: skip
    assert deployed.returncode == 1
    assert "Ray Serve could not deploy 'broken-2.1.0'" in deployed.stderr
    assert "RuntimeError: model file missing" in deployed.stderr
    (run,) = store.list_runs()
    assert run.status is RunStatus.FAILED and "model file missing" in run.error
    assert any("setup() failed" in (e.message or "") for e in store.get_logs(run.id))
