"""Local execution per method: job in a worker subprocess the CLI follows, task and --debug in-process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from synapse_sdk.execution.local.process import is_alive
from tests.conftest import SYNAPSE, run_cli

CONFIG = """\
code: methods
name: Methods
version: 0.1.0
category: neural_net
actions:
  train:
    entrypoint: plugin.train.Train
    method: job
  quick:
    entrypoint: plugin.train.Quick
    method: task
  inference:
    entrypoint: plugin.train.Infer
    method: restapi
"""
SOURCE = """\
import os, time
from pydantic import BaseModel
from synapse_sdk.plugins.categories.neural_net import InferenceAction, TrainAction

class Params(BaseModel):
    lines: int = 5
    sleep: float = 0.0
    fail: bool = False
    progress: bool = True

class Train(TrainAction):
    params_model = Params
    progress_categories = {"work": "Working"}

    def start(self):
        n = self.params["lines"]
        for key, value in self.envs.items():
            self.run.log_message(f"env {key}={value}")
        for i in range(n):
            self.run.log_message(f"line {i}")
            if self.params["progress"]:
                self.run.set_progress(i + 1, n, "work")
            if self.params["sleep"]:
                time.sleep(self.params["sleep"])
        if self.params["fail"]:
            raise RuntimeError("loss is NaN")
        return {"pid": os.getpid(), "lines": n}

class Quick(Train):
    pass

class InferParams(BaseModel):
    text: str

class Infer(InferenceAction):
    params_model = InferParams

    def start(self):
        return {"pid": os.getpid(), "upper": self.params["text"].upper()}
"""


@pytest.fixture
def plugin(make_plugin):
    return make_plugin(CONFIG, {"train.py": SOURCE})


def test_a_job_runs_in_a_worker_process_while_the_cli_streams_it(plugin, store):
    proc = subprocess.run(
        [SYNAPSE, "plugin", "run", "train", '{"lines": 6, "sleep": 0.05}'],
        cwd=plugin, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["lines"] == 6
    assert [line for line in proc.stderr.splitlines() if line.startswith("[INFO]")] == [
        f"[INFO] line {i}" for i in range(6)
    ]
    assert "[progress] work: 6/6 (100%)" in proc.stderr
    (record,) = store.list_runs()
    assert (record.status, record.is_job, record.method) == ("SUCCEEDED", True, "job")
    assert record.pid == result["pid"] != proc.returncode  # the worker's pid, recorded like a job's
    assert record.supervisor_pid is not None
    assert (store.db.path.parent / "jobs" / record.id / "worker.log").is_file()


def test_a_failing_job_exits_1_with_its_error_and_keeps_its_logs(plugin, store):
    proc = run_cli("plugin", "run", "train", '{"lines": 2, "fail": true}', cwd=plugin)
    assert proc.returncode == 1
    (record,) = store.list_runs()
    assert (
        f"Error: action 'train' failed: RuntimeError: loss is NaN (run {record.id}; "
        f"see 'synapse job logs {record.id}')"
    ) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert record.status == "FAILED"
    assert [e.message for e in store.get_logs(record.id)][:2] == ["line 0", "line 1"]


def test_ctrl_c_stops_the_worker_and_the_run_ends_stopped(plugin, store):
    cli = subprocess.Popen(
        [SYNAPSE, "plugin", "run", "train", '{"lines": 100000, "sleep": 0.01}'],
        cwd=plugin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert cli.stderr is not None
    assert cli.stderr.readline().startswith("[INFO] line")  # the worker runs and the CLI streams it
    (record,) = store.list_runs()
    os.kill(cli.pid, signal.SIGINT)
    _, err = cli.communicate(timeout=30)
    assert cli.returncode == 130
    assert f"run {record.id} STOPPED" in err
    record = store.get_run(record.id)
    assert record.status == "STOPPED"
    assert record.error == "stopped on request"
    deadline = time.monotonic() + 10  # the worker records STOPPED, then exits
    while is_alive(record.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_alive(record.pid)
    assert store.get_logs(record.id)[-1].message == "stopped on request"


@pytest.mark.parametrize(
    ("args", "in_process"),
    [
        (["train", '{"lines": 1}', "--debug"], True),
        (["quick", '{"lines": 1}'], True),
        (["inference", '{"text": "hi"}', "--debug"], True),
        (["train", '{"lines": 1}'], False),
    ],
    ids=["job-debug", "task", "restapi-once", "job"],
)
def test_where_each_method_runs(plugin, store, args, in_process):
    cli = subprocess.Popen([SYNAPSE, "plugin", "run", *args], cwd=plugin, stdout=subprocess.PIPE, text=True)
    out, _ = cli.communicate(timeout=60)
    assert cli.returncode == 0
    assert (json.loads(out)["pid"] == cli.pid) is in_process
    (record,) = store.list_runs()
    assert record.status == "SUCCEEDED"
    assert record.is_job is not in_process


def test_a_restapi_action_run_directly_validates_its_params(plugin, store):
    proc = run_cli("plugin", "run", "inference", '{"txt": "hi"}', "--debug", cwd=plugin)
    assert proc.returncode == 2
    assert "params.text: required key is missing" in proc.stderr
    assert store.list_runs() == []


def test_a_job_reports_through_the_http_backend(plugin, backend_server, tmp_path):
    from synapse_sdk.backend.http import HttpBackend

    env = {**backend_server.client_env, "SYNAPSE_HOME": str(tmp_path / "worker-home")}
    proc = run_cli("plugin", "run", "train", '{"lines": 50}', "--env", "API_TOKEN=s3cret-value", cwd=plugin,
                   env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "[INFO] line 49" in proc.stderr
    with HttpBackend(backend_server.url, backend_server.token) as http:
        server = http.runs
        (record,) = server.list_runs()
        assert (record.status, record.result["lines"], record.lost_events) == ("SUCCEEDED", 50, 0)
        assert server.count_logs(record.id) == 51
        assert record.extra["envs"] == {"API_TOKEN": "***"}
        assert server.get_logs(record.id)[0].message == "env API_TOKEN=***"
    assert not (tmp_path / "worker-home" / "synapse.db").exists(), "nothing may go to the local store"


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize(
    ("retry_seconds", "lines", "loses"),
    [("30", 150, False), ("0.3", 300, True)],
    ids=["outage-within-retry-budget", "outage-beyond-retry-budget"],
)
def test_a_backend_outage_mid_run_loses_nothing_or_counts_what_it_lost(
    plugin, backend_server, tmp_path, retry_seconds, lines, loses
):
    from synapse_sdk.backend.http import HttpBackend

    env = {
        **backend_server.client_env,
        "SYNAPSE_HOME": str(tmp_path / "worker-home"),
        "SYNAPSE_HTTP_RETRY_SECONDS": retry_seconds,
    }
    params = json.dumps({"lines": lines, "sleep": 0.02, "progress": False})  # only logs: exact counts
    submitted = run_cli("plugin", "run", "train", params, "--job-id", "outage", cwd=plugin, env=env)
    assert submitted.returncode == 0, submitted.stderr
    with HttpBackend(backend_server.url, backend_server.token, retry_for=30) as http:
        server = http.runs
        _wait(lambda: server.count_logs("outage") >= 10)
        backend_server.stop()
        time.sleep(1.5)  # the outage itself: the worker keeps logging while nothing listens
        backend_server.start()
        record = _wait(lambda: (r := server.get_run("outage")).status.is_terminal and r)
        stored = server.count_logs("outage")
        times = [e.ts for e in server.get_logs("outage")]
    assert record.status == "SUCCEEDED", record.error
    assert record.lost_events == lines - stored, "lost_events must say exactly what is missing"
    assert (record.lost_events > 0) is loses
    if not loses:  # the action was never blocked: it logged at its own pace through the outage
        assert max(b - a for a, b in zip(times, times[1:], strict=False)) < 0.5


def test_a_worker_gets_the_env_vars_of_get_runtime_env(make_plugin):
    config = """\
    code: envs
    name: Envs
    version: 0.1.0
    category: neural_net
    actions:
      train:
        entrypoint: plugin.train.Train
        method: job
    """
    source = """\
    import os
    from synapse_sdk.plugins.categories.neural_net import TrainAction

    class Train(TrainAction):
        def get_runtime_env(self):
            env = super().get_runtime_env()
            env["env_vars"]["CUSTOM_VAR"] = "value"
            return env

        def start(self):
            return {"CUSTOM_VAR": os.environ.get("CUSTOM_VAR"), "FROM_CLI": os.environ.get("FROM_CLI")}
    """
    folder = make_plugin(config, {"train.py": source})
    proc = run_cli("plugin", "run", "train", "--env", "FROM_CLI=yes", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"CUSTOM_VAR": "value", "FROM_CLI": "yes"}
