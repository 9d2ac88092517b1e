"""``task`` actions on a real Ray cluster: the spec's TrainAction, resources, failures, bad address."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest

from synapse_sdk.backend.schemas import RunStatus
from tests.conftest import run_cli
from tests.execution.ray.helpers import set_action
from tests.servers import free_port

pytestmark = pytest.mark.ray

CONFIG = """\
code: probe
name: Probe
version: 0.1.0
category: neural_net
actions:
  probe:
    entrypoint: plugin.probe.Probe
    method: task
    num_cpus: 1
"""
SOURCE = """\
import os
from synapse_sdk.plugins.categories.base import Action

class Probe(Action):
    name = "probe"

    def start(self):
        if self.params.get("fail"):
            raise ValueError("probe failed on purpose")
        import ray
        ctx = ray.get_runtime_context()
        try:
            resources, task = ctx.get_assigned_resources(), ctx.get_task_id() is not None
        except AssertionError:  # a Ray job's entrypoint is a driver, not a task
            resources, task = None, False
        return {"resources": resources, "task": task, "secret": os.environ.get("PROBE_SECRET")}
"""


def test_spec_train_action_runs_as_a_ray_task(ray_cluster, demo_plugin, store):
    set_action(demo_plugin, "task")
    params = json.dumps({"dataset_path": "/data/images", "epochs": 3})
    result = run_cli("plugin", "run", "train", params, "--path", str(demo_plugin), env=ray_cluster.env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": "success", "final_loss": 0.5774}
    (run,) = store.list_runs()
    assert run.status is RunStatus.SUCCEEDED
    assert run.method == "task"
    owner = run.extra["ray"].pop("owner")
    assert run.extra["ray"] == {"address": ray_cluster.address, "kind": "task"}
    assert owner["host"] == socket.gethostname() and owner["pid"] != os.getpid()  # the CLI owned the task
    assert run.pid not in (owner["pid"], None) and run.started_at <= run.finished_at  # the worker's start
    assert run.progress["training"]["percent"] == 100.0
    assert run.metrics["training"] == {"loss": 0.5774}
    assert [e.message for e in store.get_logs(run.id)] == ["Starting training...", "Training completed!"]


def test_task_runs_in_a_ray_worker_with_flag_resources_and_env(ray_cluster, make_plugin, store):
    plugin = make_plugin(CONFIG, {"probe.py": SOURCE})
    result = run_cli(
        "plugin", "run", "probe", "{}", "--path", str(plugin), "--num-cpus", "0.5",
        "--env", "PROBE_SECRET=s3cr3t-value", env=ray_cluster.env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["task"] is True
    assert out["resources"] == {"CPU": 0.5}  # the flag beats config.yaml's num_cpus: 1
    assert out["secret"] == "s3cr3t-value"  # --env reaches the worker...
    (run,) = store.list_runs()
    assert run.extra["envs"] == {"PROBE_SECRET": "***"}  # ...but is not stored


def test_failing_task_ends_failed_with_its_error(ray_cluster, make_plugin, store):
    plugin = make_plugin(CONFIG, {"probe.py": SOURCE})
    result = run_cli("plugin", "run", "probe", '{"fail": true}', "--path", str(plugin), env=ray_cluster.env)
    assert result.returncode == 1
    assert "ValueError: probe failed on purpose" in result.stderr
    (run,) = store.list_runs()
    assert run.status is RunStatus.FAILED
    assert run.error == "ValueError: probe failed on purpose"


@pytest.mark.parametrize("method", ["task", "job"], ids=["task", "job"])
def test_unreachable_ray_address_fails_fast_without_a_run(make_plugin, store, method):
    plugin = make_plugin(CONFIG.replace("method: task", f"method: {method}"), {"probe.py": SOURCE})
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = run_cli("plugin", "run", "probe", "{}", "--path", str(plugin), "--ray-address", address,
                     env={"SYNAPSE_RAY_CONNECT_TIMEOUT": "3"})  # fmt: skip
    assert time.monotonic() - started < 15
    assert result.returncode == 1
    assert f"Ray cluster at '{address}' is unreachable" in result.stderr
    assert "Traceback" not in result.stderr
    assert store.list_runs() == []


def test_background_task_outlives_the_cli_as_a_ray_job(ray_cluster, make_plugin, store):
    from tests.execution.ray.helpers import wait_for_end

    plugin = make_plugin(CONFIG, {"probe.py": SOURCE})
    result = run_cli("plugin", "run", "probe", "{}", "--path", str(plugin), "--job-id", "probe-bg",
                     "--num-cpus", "0.5", env=ray_cluster.env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    run = wait_for_end(store, "probe-bg")
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert run.method == "task" and run.extra["ray"]["kind"] == "job"
    assert run.result["task"] is False  # it ran as a Ray job's entrypoint


UV_CONFIG = CONFIG.replace("category: neural_net", 'category: neural_net\npackage_manager: "uv"')
UV_SOURCE = """\
from synapse_sdk.plugins.categories.base import Action

class Probe(Action):
    name = "probe"

    def start(self):
        import six
        return {"six": six.__version__, "where": six.__file__}
"""


def test_uv_plugin_requirements_are_installed_by_ray(ray_cluster, make_plugin, store):
    plugin = make_plugin(UV_CONFIG, {"probe.py": UV_SOURCE})
    (plugin / "requirements.txt").write_text("six==1.16.0\n")
    result = run_cli("plugin", "run", "probe", "{}", "--path", str(plugin), "--num-cpus", "0.5",
                     env=ray_cluster.env, timeout=240)  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["six"] == "1.16.0"
    assert "runtime_resources" in out["where"]  # Ray's uv-built env, not the cluster's own venv


SLOW_SOURCE = """\
import time
from synapse_sdk.plugins.categories.base import Action

class Probe(Action):
    name = "probe"

    def start(self):
        self.run.log_message("sleeping")
        for _ in range(600):
            time.sleep(0.1)
        return {"slept": True}
"""


def _start_slow_task(ray_cluster, make_plugin, store):
    """A CLI running a minute-long Ray task in the foreground (killed at the end), once its run is RUNNING."""
    from tests.conftest import SYNAPSE
    from tests.execution.ray.helpers import wait_until

    plugin = make_plugin(CONFIG, {"probe.py": SLOW_SOURCE})
    cli = subprocess.Popen(
        [SYNAPSE, "plugin", "run", "probe", "{}", "--path", str(plugin), "--num-cpus", "0.5"],
        env={**os.environ, **ray_cluster.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def running():
        return next(iter(store.list_runs(status=RunStatus.RUNNING)), None)

    run = wait_until(running, what="a RUNNING task")
    return cli, run


def test_job_stop_cancels_a_ray_task_through_its_owner(ray_cluster, make_plugin, store):
    cli, run = _start_slow_task(ray_cluster, make_plugin, store)
    with cli:
        try:
            stopped = run_cli("job", "stop", run.id, env=ray_cluster.env)
            assert stopped.returncode == 0, stopped.stderr
            assert cli.wait(30) == 130  # the owner was interrupted, as by Ctrl-C
        finally:
            cli.kill()
    record = store.get_run(run.id)
    assert record.status is RunStatus.STOPPED
    assert record.error == "stopped: interrupted, the Ray task was cancelled"
    assert [e.message for e in store.get_logs(run.id)] == ["sleeping"]


def test_a_ray_task_whose_owner_was_killed_ends_failed(ray_cluster, make_plugin, store):
    cli, run = _start_slow_task(ray_cluster, make_plugin, store)
    with cli:
        cli.kill()  # SIGKILL: the owner records nothing; Ray kills the task with it
    got = run_cli("job", "get", run.id, "--json", env=ray_cluster.env)
    assert got.returncode == 0, got.stderr
    record = json.loads(got.stdout)
    assert record["status"] == "FAILED"
    # Ray ends the orphaned task: if its worker gets to record that (Ray exits it with SystemExit),
    # that is the error; if not, the owner's death is noticed here.
    owner_gone = f"the process that ran the Ray task (pid {cli.pid}) is gone, and the task with it"
    assert record["error"] in (owner_gone, "SystemExit: 1")


PICKY_SOURCE = """\
import os
from pydantic import BaseModel, field_validator
from synapse_sdk.plugins.categories.base import Action

class Params(BaseModel):
    api_key: str = ""
    n: int = 1

    @field_validator("n")
    @classmethod
    def not_in_a_ray_worker(cls, v, info):
        if "runtime_resources" in os.getcwd():  # Ray's copy of the plugin: the worker's cwd
            raise ValueError(f"refused inside the Ray worker (key {info.data.get('api_key')})")
        return v

class Probe(Action):
    name = "probe"
    params_model = Params

    def start(self):
        return {"n": self.params["n"]}
"""


def test_a_task_that_cannot_start_in_its_worker_ends_failed_with_why(ray_cluster, make_plugin, store):
    plugin = make_plugin(CONFIG, {"probe.py": PICKY_SOURCE})
    params = '{"api_key": "sk-live-0123456789", "n": 3}'
    result = run_cli("plugin", "run", "probe", params, "--path", str(plugin), "--num-cpus", "0.5",
                     env=ray_cluster.env)  # fmt: skip
    assert result.returncode == 2, result.stderr  # bad params, found where the action runs
    (run,) = store.list_runs()
    assert run.status is RunStatus.FAILED
    assert run.error.startswith("could not start: ParamsError: invalid params for action 'probe'")
    assert "refused inside the Ray worker (key ***)" in run.error  # the run's secret, masked
    assert "sk-live-0123456789" not in result.stdout + result.stderr


SLOW_START = """\
import time
from synapse_sdk.plugins.categories.neural_net import TrainAction

class Train(TrainAction):
    def start(self):
        self.run.log_message("working")
        time.sleep(0.3)
        return {"done": True}
"""
RACE_CONFIG = """\
code: racer
name: Racer
version: 0.1.0
category: neural_net
actions:
  train:
    entrypoint: plugin.train.Train
    method: task
"""


class DelayedCreate:
    """The owner's store with its run creation delayed: fault injection for the race below."""

    def __init__(self, runs, delay: float) -> None:
        self._runs, self._delay = runs, delay

    def __getattr__(self, name):
        return getattr(self._runs, name)

    def create_run(self, new):
        time.sleep(self._delay)
        return self._runs.create_run(new)


def test_a_task_that_starts_before_its_owner_records_it_keeps_its_start(
    ray_cluster, make_plugin, store, monkeypatch
):
    """The owner submits the task, then creates the run: the worker's start mark may come first."""
    from synapse_sdk.execution.ray.task import RayTaskExecutor
    from synapse_sdk.execution.runner import prepare
    from synapse_sdk.settings import Settings

    for key, value in ray_cluster.env.items():
        monkeypatch.setenv(key, value)
    plugin = make_plugin(RACE_CONFIG, {"train.py": SLOW_START})
    executor = RayTaskExecutor(Settings.from_env(), ray_cluster.address)
    executor.runs = DelayedCreate(executor.runs, 1.5)
    prepared = prepare("train", {}, path=plugin, local_env=False)
    started = time.monotonic()
    assert executor.run(prepared, []) == {"done": True}
    assert time.monotonic() - started >= 1.5  # the record really came late
    record = store.get_run(prepared.invocation.run_id)
    assert record.status is RunStatus.SUCCEEDED
    assert record.started_at is not None and record.started_at <= record.finished_at
    assert record.pid != os.getpid()  # the worker's start mark, not the owner's
    assert [e.message for e in store.get_logs(record.id)] == ["working"]
    assert record.lost_events == 0
