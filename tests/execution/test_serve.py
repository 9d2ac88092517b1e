"""The REST development server: routes, validation, setup once, faults, and request recording."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess

import httpx
import pytest

from synapse_sdk.errors import ExecutionError, UsageError
from synapse_sdk.execution.serving.app import create_serve_app, load_rest_actions
from synapse_sdk.execution.serving.stats import RequestStats, percentile
from synapse_sdk.plugins.config import PluginConfig
from synapse_sdk.plugins.run.run import Run
from synapse_sdk.plugins.run.sinks import MemorySink
from tests.conftest import SYNAPSE, run_cli
from tests.servers import free_port, stop_process, wait_healthy

CONFIG = """\
code: infer
name: Infer Plugin
version: 1.2.0
category: neural_net
actions:
  inference:
    entrypoint: plugin.serve.Infer
    method: restapi
    description: Upper-case a text
  echo:
    entrypoint: plugin.serve.Echo
    method: restapi
  train:
    entrypoint: plugin.serve.Train
    method: job
"""
SOURCE = """\
from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.categories.neural_net import InferenceAction, TrainAction

SETUPS = []

class Params(BaseModel):
    text: str
    times: int = Field(1, ge=1, le=10)

class Infer(InferenceAction):
    params_model = Params

    def setup(self):
        SETUPS.append(1)
        self.model = {"setups": len(SETUPS)}

    def start(self):
        if self.params["text"] == "boom":
            raise ValueError("the model exploded")
        self.run.log_message("predicted")
        return {"upper": self.params["text"].upper() * self.params["times"], "setups": self.model["setups"]}

class Echo(Action):  # any params: not the deployment base's own
    name = "echo"

    def start(self):
        if self.params.get("unencodable"):
            return {"model": object()}
        return {"got": self.params}

class Train(TrainAction):
    def start(self):
        return {}
"""


@pytest.fixture
def plugin(make_plugin):
    return make_plugin(CONFIG, {"serve.py": SOURCE})


@pytest.fixture
def served(plugin):
    """The app in-process, its run's events in a MemorySink: ``call(method, path, json=...)``."""
    config = PluginConfig.load(plugin)
    sink = MemorySink()
    run = Run("serve-test", [sink], flush_interval=0.05)
    stats = RequestStats(run, interval=60)
    actions = load_rest_actions(plugin, config, run, {})
    app = create_serve_app(actions, stats, title=config.name, version=config.version, run_id=run.id)

    def call(method, path, **kwargs):
        async def go():
            # Like a real server: an exception after the 500 was sent is not re-raised into the client.
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.request(method, path, **kwargs)

        return asyncio.run(go())

    yield call, stats, run, sink
    run.close()


def test_each_restapi_action_has_a_route_and_setup_runs_once(served):
    call, stats, *_ = served
    for _ in range(3):
        response = call("POST", "/inference", json={"text": "ab", "times": 2})
        assert response.status_code == 200
        assert response.json() == {"upper": "ABAB", "setups": 1}
    assert call("POST", "/echo", json={"anything": [1, 2]}).json() == {"got": {"anything": [1, 2]}}
    assert call("POST", "/train", json={}).status_code == 404, "job actions are not served"
    assert call("GET", "/health").json()["actions"] == {"inference": "/inference", "echo": "/echo"}


def test_invalid_params_are_422_with_field_errors_and_recorded(served):
    call, stats, run, sink = served
    response = call("POST", "/inference", json={"text": "x", "times": 99})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "times"]
    assert "less than or equal to 10" in error["msg"]
    assert call("POST", "/inference", json={"txt": "x"}).json()["detail"][0]["loc"] == ["body", "text"]
    stats.report()
    run.flush()
    requests = [row[4] for row in sink.logs if row[3] == "request"]
    assert [(r["method"], r["route"], r["status"]) for r in requests] == [("POST", "/inference", 422)] * 2


def test_a_failing_action_is_a_500_with_a_clear_detail_and_an_error_log(served):
    call, stats, run, sink = served
    response = call("POST", "/inference", json={"text": "boom"})
    assert response.status_code == 500
    assert response.json() == {"detail": "action 'inference' failed: ValueError: the model exploded",
                               "run_id": "serve-test"}  # fmt: skip
    stats.report()
    run.flush()
    assert ("ERROR", "action 'inference' failed: ValueError: the model exploded") in [
        (row[1], row[2]) for row in sink.logs
    ]
    assert stats.errors == 1


def test_a_result_that_is_not_json_is_a_500_with_a_clear_detail(served):
    call, stats, run, sink = served
    response = call("POST", "/echo", json={"unencodable": True})
    assert response.status_code == 500
    assert response.json()["detail"].startswith("POST /echo failed: ")
    run.flush()
    assert any(row[1] == "ERROR" and row[2].startswith("POST /echo failed") for row in sink.logs)
    stats.report()
    assert stats.errors == 1


def test_openapi_docs_come_from_the_params_models(served):
    call, *_ = served
    spec = call("GET", "/openapi.json").json()
    assert spec["info"] == {"title": "Infer Plugin", "version": "1.2.0",
                            "description": spec["info"]["description"]}  # fmt: skip
    operation = spec["paths"]["/inference"]["post"]
    assert operation["summary"] == "Upper-case a text"
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Params"
    }
    params = spec["components"]["schemas"]["Params"]
    assert params["required"] == ["text"]
    assert params["properties"]["times"]["maximum"] == 10
    assert call("GET", "/docs").status_code == 200


def test_request_metrics_count_every_request_and_logs_are_sampled_above_the_limit():
    sink = MemorySink()
    run = Run("stats", [sink])
    stats = RequestStats(run, interval=60, max_logs_per_interval=10)
    for i in range(100):
        stats.record("POST", "/a", 500 if i == 57 else 200, (i + 1) / 1000)
    stats.report()
    run.close()
    metrics = {cat: values for batch in sink.batches for _, cat, values in batch.metrics}
    overall = metrics["requests"]
    assert (overall["count"], overall["errors"], overall["total"]) == (100, 1, 100)
    assert (overall["latency_p50_ms"], overall["latency_p99_ms"], overall["latency_max_ms"]) == (50, 99, 100)
    assert metrics["POST /a"]["count"] == 100
    logged = [row[4] for row in sink.logs if row[3] == "request"]
    assert len(logged) == 11 == stats.logged, "10 sampled successes plus every error"
    assert any(entry["status"] == 500 for entry in logged)
    assert all(entry["sampled_1_in"] == 10 for entry in logged)


def test_percentile_nearest_rank():
    assert percentile([], 0.5) == 0.0
    assert percentile([1.0], 0.99) == 1.0
    assert percentile([float(i) for i in range(1, 11)], 0.9) == 9.0


def test_a_plugin_without_restapi_actions_cannot_be_served(make_plugin, store):
    folder = make_plugin(CONFIG.split("  inference:")[0] + "  train:\n    entrypoint: plugin.serve.Train\n",
                         {"serve.py": SOURCE})  # fmt: skip
    with pytest.raises(UsageError, match="has no restapi actions to serve; set 'method: restapi'"):
        load_rest_actions(folder, PluginConfig.load(folder), Run("x"), {})
    proc = run_cli("plugin", "run", "serve", "--port", str(free_port()), cwd=folder)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: plugin 'infer' has no restapi actions to serve")
    assert store.list_runs() == [], "bad input leaves no run behind"


def test_a_failing_setup_is_an_execution_error(make_plugin):
    folder = make_plugin(
        CONFIG, {"serve.py": SOURCE.replace("SETUPS.append(1)", "raise OSError('no weights')")}
    )
    with pytest.raises(ExecutionError, match="action 'inference': setup\\(\\) failed: OSError: no weights"):
        load_rest_actions(folder, PluginConfig.load(folder), Run("x"), {})


def test_the_serve_command_serves_records_and_stops_truthfully(plugin, store):
    port = free_port()
    server = subprocess.Popen(
        [SYNAPSE, "plugin", "run", "serve", "--port", str(port)],
        cwd=plugin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", server)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            statuses = [client.post("/inference", json={"text": "hi"}).status_code for _ in range(20)]
            statuses.append(client.post("/inference", json={"text": 1}).status_code)
            statuses.append(client.post("/inference", json={"text": "boom"}).status_code)
        assert statuses == [200] * 20 + [422, 500]
        (record,) = store.list_runs()
        assert (record.status, record.action, record.method, record.pid) == ("RUNNING", "serve", "restapi",
                                                                             server.pid)  # fmt: skip
    finally:
        stop_process(server)
    out, err = server.communicate()
    assert server.returncode == 0, err
    assert f"http://127.0.0.1:{port}" in out
    record = store.get_run(record.id)
    assert record.status == "STOPPED"
    assert record.extra["routes"] == {"inference": "/inference", "echo": "/echo"}
    assert (record.metrics["requests"]["total"], record.metrics["requests"]["errors_total"]) == (22, 2)
    assert record.metrics["requests"]["latency_p99_ms"] > 0
    requests = [e.data for e in store.get_logs(record.id) if e.event == "request"]
    assert len(requests) == 22
    assert sorted({r["status"] for r in requests}) == [200, 422, 500]
    messages = [e.message for e in store.get_logs(record.id) if e.message]
    assert "action 'inference' failed: ValueError: the model exploded" in messages
    assert messages[-1] == "server stopped: 22 request(s), 2 error(s)"


def test_serve_on_a_port_in_use_is_bad_input(plugin, store):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = run_cli("plugin", "run", "serve", "--port", str(busy.getsockname()[1]), cwd=plugin)
    assert proc.returncode == 2
    assert "Error: --port" in proc.stderr and "choose another port" in proc.stderr
    assert store.list_runs() == []


def test_serve_with_a_failing_setup_exits_1_and_records_a_failed_run(make_plugin, store):
    folder = make_plugin(
        CONFIG, {"serve.py": SOURCE.replace("SETUPS.append(1)", "raise OSError('no weights')")}
    )
    proc = run_cli("plugin", "run", "serve", "--port", str(free_port()), cwd=folder)
    assert proc.returncode == 1
    assert "Error: action 'inference': setup() failed: OSError: no weights" in proc.stderr
    (record,) = store.list_runs()
    assert record.status == "FAILED"
    assert record.error == "ExecutionError: action 'inference': setup() failed: OSError: no weights"


def test_sigint_stops_the_server_cleanly(plugin, store):
    port = free_port()
    server = subprocess.Popen([SYNAPSE, "plugin", "run", "serve", "--port", str(port), "--debug"], cwd=plugin,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_healthy(f"http://127.0.0.1:{port}/health", server)
    os.kill(server.pid, signal.SIGINT)
    _, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    (record,) = store.list_runs()
    assert record.status == "STOPPED"
    assert json.dumps(record.metrics) == "{}", "no requests, no request metrics"


def test_a_killed_server_leaves_a_failed_serving_run(plugin, store):
    port = free_port()
    server = subprocess.Popen([SYNAPSE, "plugin", "run", "serve", "--port", str(port)], cwd=plugin,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    wait_healthy(f"http://127.0.0.1:{port}/health", server)
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    (record,) = store.list_runs()
    got = json.loads(run_cli("job", "get", record.id, "--json").stdout)
    assert got["status"] == "FAILED"
    assert got["error"] == f"worker died: process {server.pid} is gone"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--job-id", "s1"], "Error: --job-id: 'serve' runs in the foreground until Ctrl-C; drop --job-id"),
        (['{"text": "x"}'], "Error: PARAMS_JSON '{\"text\": \"x\"}': 'serve' takes no params"),
    ],
    ids=["job-id", "params"],
)
def test_serve_rejects_options_it_cannot_honour(plugin, store, args, message):
    proc = run_cli("plugin", "run", "serve", *args, cwd=plugin)
    assert proc.returncode == 2
    assert proc.stderr.startswith(message)
    assert store.list_runs() == []


def test_a_server_records_its_serving_run_through_the_http_backend(plugin, backend_server, tmp_path):
    from synapse_sdk.backend.http import HttpBackend

    port = free_port()
    env = {**os.environ, **backend_server.client_env, "SYNAPSE_HOME": str(tmp_path / "local")}
    server = subprocess.Popen([SYNAPSE, "plugin", "run", "serve", "--port", str(port)], cwd=plugin, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", server)
        assert httpx.post(f"http://127.0.0.1:{port}/inference", json={"text": "remote"}).status_code == 200
    finally:
        stop_process(server)
    _, err = server.communicate()
    assert server.returncode == 0, err
    with HttpBackend(backend_server.url, backend_server.token) as http:
        remote = http.runs
        (record,) = remote.list_runs()
        assert (record.status, record.method) == ("STOPPED", "restapi")
        assert record.metrics["requests"]["total"] == 1
        assert [e.data["status"] for e in remote.get_logs(record.id) if e.event == "request"] == [200]
    assert not (tmp_path / "local" / "synapse.db").exists()


ASYNC_CONFIG = """\
code: embed
name: Embed
version: 0.1.0
category: neural_net
actions:
  embed:
    entrypoint: plugin.embed.Embed
    method: restapi
"""
ASYNC_SOURCE = """\
import asyncio
import threading
from pydantic import BaseModel
from synapse_sdk.plugins.categories.neural_net import InferenceAction

class Params(BaseModel):
    text: str

class Embed(InferenceAction):
    params_model = Params

    async def start(self):
        await asyncio.sleep(0)
        if self.params["text"] == "boom":
            raise ValueError("no vector")
        return {"length": len(self.params["text"]), "thread": threading.current_thread().name}
"""


def test_an_async_action_is_awaited_on_the_event_loop_and_runs_once_from_the_cli(make_plugin, store):
    folder = make_plugin(ASYNC_CONFIG, {"embed.py": ASYNC_SOURCE}, name="embed")
    config = PluginConfig.load(folder)
    run = Run("async-serve", [MemorySink()])
    app = create_serve_app(load_rest_actions(folder, config, run, {}), RequestStats(run, interval=60),
                           title=config.name, version=config.version, run_id=run.id)  # fmt: skip

    async def go():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.post("/embed", json={"text": t}) for t in ("abc", "boom")]

    ok, failed = asyncio.run(go())
    run.close()
    assert ok.status_code == 200
    assert ok.json() == {"length": 3, "thread": "MainThread"}  # no thread-pool hop
    assert failed.status_code == 500
    assert failed.json()["detail"] == "action 'embed' failed: ValueError: no vector"
    proc = run_cli("plugin", "run", "embed", '{"text": "hello"}', "--debug", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["length"] == 5
