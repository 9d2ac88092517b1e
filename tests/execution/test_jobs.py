"""Background jobs: detached workers that outlive the CLI, stop, die truthfully and never lose logs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from tests.conftest import run_cli

CONFIG = """\
code: chatty
name: Chatty
version: 0.2.0
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
    lines: int = 10
    sleep: float = 0.0
    password: str = ""

class Train(TrainAction):
    params_model = Params

    def start(self):
        n = self.params["lines"]
        for i in range(n):
            self.run.log_message(f"line {i}")
            self.run.set_progress(i + 1, n, "work")
            if self.params["sleep"]:
                time.sleep(self.params["sleep"])
        return {"lines": n}
"""


@pytest.fixture
def plugin(make_plugin):
    return make_plugin(CONFIG, {"train.py": SOURCE})


def wait_for(store, job_id, predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        from synapse_sdk.execution.base import reconcile

        record = reconcile(store, store.get_run(job_id))
        if predicate(record):
            return record
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never got there: {store.get_run(job_id)}")


def test_a_background_job_returns_at_once_and_finishes_alone(plugin, store):
    proc = run_cli(
        "plugin", "run", "train", '{"lines": 5, "password": "hunter22"}', "--job-id", "j1", cwd=plugin
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"job_id": "j1", "status": "PENDING"}
    record = wait_for(store, "j1", lambda r: r.status.is_terminal)
    assert record.status == "SUCCEEDED", record.error
    got = json.loads(run_cli("job", "get", "j1", "--json").stdout)
    for key in ("id", "status", "action", "plugin", "params", "progress", "metrics", "result", "error",
                "created_at", "started_at", "finished_at"):  # fmt: skip
        assert key in got
    assert got["params"] == {"lines": 5, "password": "***"}
    assert got["progress"] == {"work": {"current": 5, "total": 5, "percent": 100.0}}
    assert got["result"] == {"lines": 5}
    logs = run_cli("job", "logs", "j1").stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in logs] == [f"[INFO] line {i}" for i in range(5)]


def test_logs_follow_streams_until_the_end(plugin):
    run_cli("plugin", "run", "train", '{"lines": 20, "sleep": 0.05}', "--job-id", "f1", cwd=plugin)
    proc = run_cli("job", "logs", "f1", "--follow", timeout=60)
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert sum("[INFO] line" in line for line in lines) == 20
    assert lines[-1] == "-- run f1 ended SUCCEEDED"


def test_a_job_id_in_use_is_refused(plugin, store):
    assert run_cli("plugin", "run", "train", "--job-id", "dup", cwd=plugin).returncode == 0
    proc = run_cli("plugin", "run", "train", "--job-id", "dup", cwd=plugin)
    assert proc.returncode == 2
    assert "Error: a run with id 'dup' exists already; choose another --job-id" in proc.stderr


def test_stop_is_graceful_and_keeps_logs(plugin, store):
    run_cli("plugin", "run", "train", '{"lines": 100000, "sleep": 0.01}', "--job-id", "s1", cwd=plugin)
    wait_for(store, "s1", lambda r: r.progress)
    proc = run_cli("job", "stop", "s1")
    assert proc.returncode == 0
    assert "job s1: STOPPED" in proc.stdout
    record = store.get_run("s1")
    assert record.status == "STOPPED"
    messages = [e.message for e in store.get_logs("s1")]
    assert messages[0] == "line 0" and messages[-1] == "stopped on request"


def test_a_job_on_another_host_stops_when_its_heartbeat_is_answered(plugin, backend_server):
    from synapse_sdk.backend.http import HttpBackend
    from tests.conftest import SYNAPSE

    # The job runs as host 'gpu-node-1' (a UTS namespace of its own) and reports over HTTP:
    # no signal from here can reach it, only the answer to its next flush.
    on_node = ["unshare", "--uts", "sh", "-c", 'hostname gpu-node-1 && exec "$@"', "sh", SYNAPSE]
    env = {**os.environ, **backend_server.client_env}
    started = subprocess.run(
        [*on_node, "plugin", "run", "train", '{"lines": 3000, "sleep": 0.01}', "--job-id", "far-1"],
        cwd=plugin, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    with HttpBackend(backend_server.url, backend_server.token) as http:
        client = http.runs
        try:
            wait_for(client, "far-1", lambda r: r.progress and r.host == "gpu-node-1")
            stopped = run_cli("job", "stop", "far-1", env=backend_server.client_env)
            assert stopped.returncode == 0, stopped.stderr
            assert "job far-1: STOPPED" in stopped.stdout
            record = client.get_run("far-1")
            assert (record.status, record.host) == ("STOPPED", "gpu-node-1")
            assert record.error == "stopped on request"
            assert client.get_logs("far-1")[-1].message == "stopped on request"
        finally:
            record = client.get_run("far-1")
            for pid in (record.pid, record.supervisor_pid):
                with contextlib.suppress(ProcessLookupError, TypeError):
                    os.kill(pid, signal.SIGKILL)


def test_stop_kills_a_job_that_ignores_sigterm(make_plugin, store):
    source = """\
    import signal, time
    from synapse_sdk.plugins.categories.neural_net import TrainAction

    class Train(TrainAction):
        def start(self):
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self.run.log_message("ignoring SIGTERM")
            while True:
                time.sleep(0.05)
    """
    folder = make_plugin(CONFIG, {"train.py": source})
    run_cli("plugin", "run", "train", "--job-id", "stubborn", cwd=folder)
    wait_for(store, "stubborn", lambda r: store.count_logs("stubborn") > 0)
    proc = run_cli("job", "stop", "stubborn", "--grace", "1")
    assert "STOPPED" in proc.stdout
    assert store.get_run("stubborn").status == "STOPPED"
    assert [e.message for e in store.get_logs("stubborn")] == ["ignoring SIGTERM"]


def test_kill_9_is_reported_failed_with_the_signal_and_logs_kept(plugin, store):
    run_cli("plugin", "run", "train", '{"lines": 100000, "sleep": 0.01}', "--job-id", "k1", cwd=plugin)
    record = wait_for(store, "k1", lambda r: store.count_logs("k1") >= 5)
    os.kill(record.pid, signal.SIGKILL)
    record = wait_for(store, "k1", lambda r: r.status.is_terminal, timeout=10)
    assert record.status == "FAILED"
    assert record.error == "worker died: signal 9 (SIGKILL)"
    assert store.count_logs("k1") >= 5
    assert json.loads(run_cli("job", "get", "k1", "--json").stdout)["status"] == "FAILED"


def test_a_silent_death_of_worker_and_supervisor_is_noticed_on_the_next_query(plugin, store):
    run_cli("plugin", "run", "train", '{"lines": 100000, "sleep": 0.01}', "--job-id", "k2", cwd=plugin)
    record = wait_for(store, "k2", lambda r: store.count_logs("k2") >= 1)
    os.kill(record.supervisor_pid, signal.SIGKILL)
    os.kill(record.pid, signal.SIGKILL)
    time.sleep(0.3)
    got = json.loads(run_cli("job", "get", "k2", "--json").stdout)
    assert got["status"] == "FAILED"
    assert got["error"].startswith("worker died: process")


def test_job_list_shows_jobs(plugin, store):
    run_cli("plugin", "run", "train", '{"lines": 1}', "--job-id", "l1", cwd=plugin)
    wait_for(store, "l1", lambda r: r.status.is_terminal)
    out = run_cli("job", "list").stdout
    assert "l1" in out and "SUCCEEDED" in out and "chatty@0.2.0" in out
    assert run_cli("job", "list", "--status", "runing").stderr.strip() == (
        "Error: --status 'runing': expected one of PENDING, RUNNING, SUCCEEDED, FAILED, STOPPED"
        " (did you mean 'RUNNING'?)"
    )


def test_unknown_job(store):
    proc = run_cli("job", "get", "ghost")
    assert proc.returncode == 2
    assert "Error: no run or job with id 'ghost'" in proc.stderr


@pytest.mark.slow
def test_20_concurrent_jobs_each_writing_5000_logs_lose_nothing(plugin, store):
    ids = [f"c{i:02d}" for i in range(20)]
    for job_id in ids:
        proc = run_cli("plugin", "run", "train", '{"lines": 5000}', "--job-id", job_id, cwd=plugin)
        assert proc.returncode == 0, proc.stderr
    for job_id in ids:
        record = wait_for(store, job_id, lambda r: r.status.is_terminal, timeout=180)
        assert record.status == "SUCCEEDED", record.error
        assert record.lost_events == 0
    assert sum(store.count_logs(j) for j in ids) == 100_000
    for job_id in ids:
        output = (store.db.path.parent / "jobs" / job_id / "worker.log").read_text()
        assert "locked" not in output, output


def test_a_foreground_run_whose_cli_was_killed_is_failed_on_the_next_query(plugin, store):
    import subprocess

    from tests.conftest import SYNAPSE

    proc = subprocess.Popen(
        [SYNAPSE, "plugin", "run", "train", '{"lines": 100000, "sleep": 0.01}', "--debug"],
        cwd=plugin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not (runs := store.list_runs()) or not store.count_logs(runs[0].id):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    got = json.loads(run_cli("job", "get", runs[0].id, "--json").stdout)
    assert got["status"] == "FAILED"
    assert got["error"] == f"worker died: process {proc.pid} is gone"


def test_a_remote_worker_without_heartbeat_is_declared_lost(store):
    from synapse_sdk.backend.schemas import NewRun, RunStatus
    from synapse_sdk.execution.base import reconcile

    store.create_run(NewRun(id="remote", action="train"))
    store.transition("remote", [RunStatus.PENDING], RunStatus.RUNNING, host="gpu-node-7", pid=4242,
                     heartbeat_at=time.time() - 60)  # fmt: skip
    record = reconcile(store, store.get_run("remote"))
    assert record.status == "FAILED"
    assert record.error == "worker lost: no heartbeat for 60s"
    store.create_run(NewRun(id="alive", action="train"))
    store.transition("alive", [RunStatus.PENDING], RunStatus.RUNNING, host="gpu-node-7", pid=4242,
                     heartbeat_at=time.time() - 1)  # fmt: skip
    assert reconcile(store, store.get_run("alive")).status == "RUNNING"


def _ray_task_run(store, run_id: str, owner: dict) -> None:
    """A RUNNING Ray task run as a caller records it (its worker is a pooled, long-lived process)."""
    from synapse_sdk.backend.schemas import NewRun, RunStatus

    ray = {"address": "127.0.0.1:6379", "kind": "task", "owner": owner}
    store.create_run(NewRun(id=run_id, action="train", extra={"ray": ray}))
    store.transition(run_id, [RunStatus.PENDING], RunStatus.RUNNING, host=socket.gethostname(),
                     pid=os.getpid(), heartbeat_at=time.time())  # fmt: skip


def test_a_ray_task_lives_and_dies_with_its_owner(store):
    from synapse_sdk.execution.base import reconcile
    from synapse_sdk.execution.local.process import start_fingerprint

    here, me = socket.gethostname(), os.getpid()
    _ray_task_run(store, "owned", {"host": here, "pid": me, "started": start_fingerprint(me)})
    assert reconcile(store, store.get_run("owned")).status == "RUNNING"
    dead = subprocess.Popen(["true"])  # an owner that has ended
    dead.wait()
    _ray_task_run(store, "orphan", {"host": here, "pid": dead.pid, "started": "1"})
    record = reconcile(store, store.get_run("orphan"))
    assert record.status == "FAILED"
    assert record.error == f"the process that ran the Ray task (pid {dead.pid}) is gone, and the task with it"


def test_stopping_a_ray_task_owned_elsewhere_says_where(store):
    _ray_task_run(store, "far", {"host": "laptop-9", "pid": 4242, "started": "1"})
    result = run_cli("job", "stop", "far")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: Ray task far is owned by a process on host 'laptop-9', and only its owner can cancel it; "
        "run 'synapse job stop far' on 'laptop-9'"
    )


def test_what_a_job_prints_is_in_its_logs(make_plugin, store):
    source = """\
    import sys
    from synapse_sdk.plugins.categories.neural_net import TrainAction

    class Train(TrainAction):
        def start(self):
            print("loading weights")
            print("careful: half precision", file=sys.stderr)
            sys.stderr.write("epoch 1/2\\repoch 2/2\\n")
            self.run.log_message("done")
            return {}
    """
    folder = make_plugin(CONFIG, {"train.py": source})
    assert run_cli("plugin", "run", "train", "--job-id", "p1", cwd=folder).returncode == 0
    wait_for(store, "p1", lambda r: r.status.is_terminal)
    logs = [(e.level, e.message) for e in store.get_logs("p1")]
    assert logs == [
        ("INFO", "loading weights"),
        ("WARNING", "careful: half precision"),
        ("WARNING", "epoch 2/2"),
        ("INFO", "done"),
    ]
    worker_output = (store.db.path.parent / "jobs" / "p1" / "worker.log").read_text()
    assert "loading weights" in worker_output
