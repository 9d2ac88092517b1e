"""`synapse job watch`, `job logs --follow` and `job metrics`, embedded and over HTTP, on real jobs."""

from __future__ import annotations

import io
import json
import re
import time

import httpx
import pytest

from tests.conftest import run_cli
from tests.servers import BackendServer

CONFIG = """\
code: stepper
name: Stepper
version: 0.3.0
category: neural_net
actions:
  train:
    entrypoint: plugin.train.Train
    method: job
"""
SOURCE = """\
import time
from pydantic import BaseModel
from synapse_sdk.plugins.categories.neural_net import TrainAction

class Params(BaseModel):
    steps: int = 10
    sleep: float = 0.0
    fail: bool = False

class Train(TrainAction):
    params_model = Params

    def start(self):
        n = self.params["steps"]
        for i in range(n):
            self.run.log_message(f"step {i}")
            self.run.set_progress(i + 1, n, "work")
            self.run.set_metrics({"loss": round(1.0 / (i + 1), 4), "epoch": i}, "training")
            time.sleep(self.params["sleep"])
        if self.params["fail"]:
            raise RuntimeError("diverged")
        return {"steps": n}
"""


@pytest.fixture
def plugin(make_plugin):  # type: ignore[no-untyped-def]
    return make_plugin(CONFIG, {"train.py": SOURCE})


def submit(plugin, job_id: str, params: str, env: dict[str, str] | None = None) -> None:  # type: ignore[no-untyped-def]
    proc = run_cli("plugin", "run", "train", params, "--job-id", job_id, cwd=plugin, env=env)
    assert proc.returncode == 0, proc.stderr


def test_watch_follows_a_job_to_its_end_with_rate_eta_metrics_and_logs(plugin):
    submit(plugin, "w1", '{"steps": 20, "sleep": 0.1}')
    proc = run_cli("job", "watch", "w1")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("run w1  stepper@0.3.0  train ")
    assert "[INFO] step 0" in lines and "[INFO] step 19" in lines
    assert "[progress] work: 20/20 (100%) done" in lines
    assert [ln for ln in lines if re.fullmatch(r"\[progress\] work: \d+/20 \(\d+%\) [0-9.]+/s ETA \d+s", ln)]
    assert "[metrics] training: loss=0.05 epoch=19" in lines
    assert lines[-1] == "-- run w1 ended SUCCEEDED"


def test_watch_exits_like_the_run_when_it_failed_or_is_unknown(plugin):
    submit(plugin, "w2", '{"steps": 2, "fail": true}')
    failed = run_cli("job", "watch", "w2")
    assert failed.returncode == 1
    assert "-- run w2 ended FAILED: RuntimeError: diverged" in failed.stdout
    assert failed.stderr.startswith("Error: action 'train' failed: RuntimeError: diverged (run w2;")
    missing = run_cli("job", "watch", "ghost")
    assert missing.returncode == 2
    assert missing.stderr == "Error: no run or job with id 'ghost'; list them with 'synapse job list'\n"


def test_logs_follow_shows_progress_lines_between_the_log_lines(plugin):
    submit(plugin, "f1", '{"steps": 5, "sleep": 0.05}')
    proc = run_cli("job", "logs", "f1", "--follow")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == "-- run f1 ended SUCCEEDED"
    assert [ln.split(" ", 1)[1] for ln in lines if "[INFO] step" in ln] == [
        f"[INFO] step {i}" for i in range(5)
    ]
    assert any(ln.endswith("[progress] work: 5/5 (100%) done") for ln in lines)
    as_json = run_cli("job", "logs", "f1", "--follow", "--json")
    assert [json.loads(ln)["message"] for ln in as_json.stdout.splitlines()] == [
        f"step {i}" for i in range(5)
    ]


def test_metrics_prints_a_metrics_history(plugin):
    submit(plugin, "m1", '{"steps": 4}')
    assert run_cli("job", "watch", "m1").returncode == 0
    loss = run_cli("job", "metrics", "m1", "--name", "loss")
    assert loss.returncode == 0, loss.stderr
    rows = loss.stdout.splitlines()
    assert rows[0].split() == ["#", "TIME", "CATEGORY", "VALUES"]
    assert [r.split()[-1] for r in rows[1:5]] == ["loss=1", "loss=0.5", "loss=0.3333", "loss=0.25"]
    assert rows[5] == "loss: 4 values, first 1, last 0.25, min 0.25, max 1"
    data = json.loads(run_cli("job", "metrics", "m1", "--json", "--category", "training").stdout)
    assert [d["values"] for d in data][-1] == {"loss": 0.25, "epoch": 3}
    assert all(d["category"] == "training" and d["time"].startswith("20") for d in data)
    assert run_cli("job", "metrics", "m1", "--category", "nope").stdout == (
        "run m1 has no metrics yet in category 'nope'\n"
    )
    unknown = run_cli("job", "metrics", "m1", "--name", "los")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith(
        "Error: --name 'los': run m1 reported no metric of that name; it has epoch, loss"
    )


def test_watch_logs_and_metrics_over_http(plugin, tmp_path):
    server = BackendServer(tmp_path / "server-home").start()
    try:
        env = server.client_env
        submit(plugin, "h1", '{"steps": 8, "sleep": 0.05}', env=env)
        watched = run_cli("job", "watch", "h1", env=env)
        assert watched.returncode == 0, watched.stderr
        assert "[progress] work: 8/8 (100%) done" in watched.stdout.splitlines()
        assert watched.stdout.splitlines()[-1] == "-- run h1 ended SUCCEEDED"
        followed = run_cli("job", "logs", "h1", "-f", env=env)
        assert followed.returncode == 0 and "[INFO] step 7" in followed.stdout
        metrics = run_cli("job", "metrics", "h1", "--name", "epoch", env=env)
        assert metrics.stdout.splitlines()[-1] == "epoch: 8 values, first 0, last 7, min 0, max 7"
        assert run_cli("job", "watch", "ghost", env=env).returncode == 2
    finally:
        server.stop()


def test_the_server_stops_a_local_job_on_a_post(plugin, synapse_home):
    server = BackendServer(synapse_home).start()  # serves the embedded store the job reports to
    try:
        submit(plugin, "s1", '{"steps": 1000, "sleep": 0.05}')
        headers = {"Authorization": f"Bearer {server.token}"}
        deadline = time.monotonic() + 30
        while httpx.get(f"{server.url}/runs/s1", headers=headers).json()["status"] != "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        answer = httpx.post(f"{server.url}/runs/s1/stop", json={"grace": 5}, headers=headers)
        assert (answer.status_code, answer.json()) == (
            202,
            {"id": "s1", "stopping": True, "status": "RUNNING"},
        )
        watched = run_cli("job", "watch", "s1")
        assert watched.returncode == 1
        assert watched.stdout.splitlines()[-1].startswith("-- run s1 ended STOPPED")
    finally:
        server.stop()


def test_the_terminal_view_draws_bars_metrics_and_the_log_tail(plugin, store):
    from synapse_sdk.cli.watch import watch_run

    submit(plugin, "t1", '{"steps": 3}')
    out = io.StringIO()
    watch_run(store, "t1", out=out, live=True)
    shown = out.getvalue()
    assert "run t1  stepper@0.3.0  train  SUCCEEDED" in shown
    assert re.search(r"work\s+━+\s+3/3\s+100\.0%\s+done", shown), shown
    assert "metrics training: loss=0.3333  epoch=2" in shown
    assert "[INFO] step 2" in shown and "-- run t1 ended SUCCEEDED" in shown
