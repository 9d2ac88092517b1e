"""``HttpBackend`` against a real ``synapse backend serve`` process on 127.0.0.1: token, CLI, resends.

The behaviour it shares with the embedded backend is in ``tests/backend/test_contract.py``.
"""

from __future__ import annotations

import time

import httpx
import pytest

from synapse_sdk.backend import get_backend
from synapse_sdk.backend.http import HttpBackend
from synapse_sdk.backend.schemas import EventBatch, NewRun, RunStatus
from synapse_sdk.errors import BackendError, RunConflict, RunNotFound, UsageError
from synapse_sdk.settings import Settings
from tests.conftest import run_cli
from tests.servers import BackendServer, free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = BackendServer(tmp_path_factory.mktemp("client") / "home").start()
    yield server
    server.stop()


@pytest.fixture
def backend(server):
    client = HttpBackend(server.url, server.token, retry_for=2.0)
    yield client
    client.close()


def test_token_is_required_by_the_real_server(server):
    assert httpx.get(f"{server.url}/runs").status_code == 401
    wrong = httpx.get(f"{server.url}/runs", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    with (
        HttpBackend(server.url, "not-the-token") as client,
        pytest.raises(BackendError, match=r"rejected the access token \(401\); set SYNAPSE_ACCESS_TOKEN"),
    ):
        client.runs.list_runs()


def test_a_host_without_a_token_is_bad_input(server):
    with pytest.raises(UsageError, match="SYNAPSE_ACCESS_TOKEN is not set"):
        get_backend(Settings(home=server.home, host=server.url))


def test_backend_serve_without_a_token_is_bad_input(tmp_path):
    proc = run_cli("backend", "serve", "--port", str(free_port()),
                   env={"SYNAPSE_HOME": str(tmp_path), "SYNAPSE_ACCESS_TOKEN": ""})  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: SYNAPSE_ACCESS_TOKEN is not set; the HTTP backend requires a token")


def test_server_errors_become_our_errors(backend):
    with pytest.raises(RunNotFound, match="no run or job with id 'ghost'"):
        backend.runs.get_run("ghost")
    backend.runs.create_run(NewRun(id="dup", action="train"))
    with pytest.raises(RunConflict, match="exists already"):
        backend.runs.create_run(NewRun(id="dup", action="train"))
    with pytest.raises(UsageError, match="fields.colour: unknown field"):
        backend.runs.update("dup", colour="red")


def test_job_commands_read_runs_through_the_server(backend, server, tmp_path):
    backend.runs.create_run(NewRun(id="cli-run", action="train", params={"api_key": "***"}))
    backend.runs.write_events(
        "cli-run", EventBatch(logs=[(time.time(), "INFO", "from a worker", None, None)])
    )
    env = {**server.client_env, "SYNAPSE_HOME": str(tmp_path / "elsewhere")}
    listed = run_cli("job", "list", "--json", env=env)
    assert "cli-run" in listed.stdout, listed.stderr
    assert "from a worker" in run_cli("job", "logs", "cli-run", env=env).stdout
    shown = run_cli("job", "get", "cli-run", env={**env, "SYNAPSE_ACCESS_TOKEN": "wrong"})
    assert shown.returncode == 1
    assert "Error: backend" in shown.stderr
    assert "rejected the access token" in shown.stderr


class LoseFirstResponse(httpx.HTTPTransport):
    """A real transport that delivers each matching request but drops the first response.

    It fakes only the network failing after the server acted: the one thing a test cannot
    provoke reliably with a real server alone.
    """

    def __init__(self, method: str, path_suffix: str) -> None:
        super().__init__()
        self.method, self.path_suffix, self.dropped = method, path_suffix, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == self.method and request.url.path.endswith(self.path_suffix) and not self.dropped:
            self.dropped += 1
            response.read()
            raise httpx.ReadError("connection reset after the server answered", request=request)
        return response


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("POST", "/runs"), ("POST", "/transition"), ("POST", "/events")],
    ids=["create", "transition", "events"],
)
def test_a_request_resent_after_its_response_was_lost_takes_effect_once(server, method, suffix):
    transport = LoseFirstResponse(method, suffix)
    run_id = f"resent-{suffix.strip('/')}"
    with HttpBackend(server.url, server.token, transport=transport, retry_for=5) as client:
        client.runs.create_run(NewRun(id=run_id, action="train"))
        assert client.runs.transition(run_id, [RunStatus.PENDING], RunStatus.RUNNING)
        client.runs.write_events(run_id, EventBatch(logs=[(time.time(), "INFO", "once", None, None)]))
        assert transport.dropped == 1
        assert client.runs.get_run(run_id).status is RunStatus.RUNNING
        assert [e.message for e in client.runs.get_logs(run_id)] == ["once"]


def test_job_stop_never_signals_a_pid_of_a_run_on_another_host(backend, server, tmp_path):
    import subprocess
    import sys

    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        backend.runs.create_run(NewRun(id="remote-job", action="train", is_job=True))
        backend.runs.transition("remote-job", [RunStatus.PENDING], RunStatus.RUNNING, host="gpu-node-7",
                           pid=bystander.pid, heartbeat_at=time.time())  # fmt: skip
        env = {**server.client_env, "SYNAPSE_HOME": str(tmp_path / "elsewhere")}
        proc = run_cli("job", "stop", "remote-job", "--grace", "0", env=env)  # nobody there answers
        assert proc.returncode == 1
        assert proc.stderr.startswith("Error: job remote-job on host 'gpu-node-7' has not stopped within 0s")
        assert bystander.poll() is None, "a local process with the same pid must not be signalled"
        record = backend.runs.get_run("remote-job")
        assert record.status is RunStatus.RUNNING and record.stop_requested  # asked, for its next heartbeat
    finally:
        bystander.kill()
        bystander.wait()
