"""The HTTP error map, provoked case by case: real sockets for what the network does, httpx's
``MockTransport`` for what a server answers (each answer is one a real server or proxy sends)."""

from __future__ import annotations

import inspect
import socket
import threading
import time

import httpx
import pytest

from synapse_sdk import errors
from synapse_sdk.backend.http import HttpBackend
from synapse_sdk.backend.http.transport import ERRORS
from synapse_sdk.backend.schemas import EventBatch
from synapse_sdk.errors import BackendError, RunNotFound, SynapseError, UsageError
from tests.servers import free_port

HOST = "http://backend.test"


def answering(*responses: httpx.Response) -> tuple[HttpBackend, list[httpx.Request]]:
    """A backend whose requests get ``responses`` in turn (the last one from then on)."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[min(len(seen), len(responses)) - 1]

    return HttpBackend(HOST, "token", retry_for=0.3, transport=httpx.MockTransport(handle)), seen


def test_the_map_knows_every_error_class_of_the_sdk():
    ours = {name for name, value in vars(errors).items()
            if inspect.isclass(value) and issubclass(value, SynapseError)}  # fmt: skip
    assert set(ERRORS) == ours


@pytest.mark.parametrize("name", sorted(set(ERRORS) - {"SynapseError", "BackendError"}))
def test_an_error_the_server_names_is_raised_as_that_class_with_its_detail(name):
    backend, _ = answering(httpx.Response(400, json={"error": name, "detail": f"what {name} says"}))
    with pytest.raises(ERRORS[name], match=f"^what {name} says$") as info:
        backend.runs.get_run("x")
    assert type(info.value) is ERRORS[name]


def test_a_named_backend_error_keeps_the_request_and_status():
    backend, _ = answering(httpx.Response(500, json={"error": "BackendError", "detail": "disk full"}))
    with pytest.raises(
        BackendError, match=r"^backend http://backend.test: GET /runs/x failed with 500: disk full$"
    ):
        backend.runs.get_run("x")


def test_401_says_to_set_the_token():
    backend, _ = answering(httpx.Response(401, json={"detail": "missing or wrong access token"}))
    with pytest.raises(BackendError, match=r"rejected the access token \(401\); set SYNAPSE_ACCESS_TOKEN"):
        backend.releases.list_releases()


@pytest.mark.parametrize(
    ("status", "detail", "says"),
    [
        (400, "bad", "failed with 400: bad$"),
        (404, "Not Found", "failed with 404: Not Found .no such endpoint: is SYNAPSE_HOST the address"),
        (409, "taken", "failed with 409: taken$"),
        (413, "too big", "failed with 413: too big .the request is larger than the server"),
        (422, [{"loc": ["body", "new"], "msg": "Input should be 'PENDING'"}],
         "failed with 422: body.new: Input should be 'PENDING'$"),
        (500, "internal error: KeyError: 'x'", "failed with 500: internal error: KeyError: 'x' .the server"),
    ],
    ids=["400", "404", "409", "413", "422", "500"],
)  # fmt: skip
def test_a_status_without_our_error_name_is_a_backend_error_with_the_detail(status, detail, says):
    backend, _ = answering(httpx.Response(status, json={"detail": detail}))
    with pytest.raises(BackendError, match=f"^backend http://backend.test: GET /runs/x {says}"):
        backend.runs.get_run("x")


def test_an_error_body_that_is_not_json_is_shown():
    backend, _ = answering(httpx.Response(500, text="<html><h1>Bad Gateway</h1>\n</html>",
                                          headers={"content-type": "text/html"}))  # fmt: skip
    says = r"failed with 500 and a body that is not JSON \(text/html: '<html><h1>Bad Gateway</h1> </html>'\)"
    with pytest.raises(BackendError, match=says + "; the server failed"):
        backend.runs.get_run("x")


def test_a_success_that_is_not_json_is_not_a_synapse_backend():
    backend, _ = answering(httpx.Response(200, text="welcome", headers={"content-type": "text/plain"}))
    with pytest.raises(
        BackendError, match="GET /runs answered 200 and a body that is not JSON .*SYNAPSE_HOST"
    ):
        backend.runs.list_runs()


@pytest.mark.parametrize("status", [502, 503, 504])
def test_an_unavailable_server_is_retried_then_given_up(status):
    backend, seen = answering(httpx.Response(status, json={"detail": "down"}))
    started = time.monotonic()
    with pytest.raises(BackendError, match=rf"failed with {status}: down \(.*; retried for 0.3s\)$"):
        backend.runs.write_events("r", EventBatch(heartbeat=1.0))
    assert len(seen) >= 3, "retried with backoff within the budget"
    assert len({r.read() for r in seen}) == 1, "the same batch (same batch id) every time"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "call",
    [lambda b: b.runs.list_runs(), lambda b: b.releases.list_releases(), lambda b: b.runs.get_logs("r")],
    ids=["runs", "releases", "logs"],
)
def test_every_resource_retries(call):
    backend, seen = answering(httpx.Response(503), httpx.Response(502), httpx.Response(200, json=[]))
    assert call(backend) == []
    assert len(seen) == 3
    assert backend.transport.resent  # the caller may check whether its first attempt took


def test_a_refused_connection_is_retried_then_unreachable():
    started = time.monotonic()
    with (
        HttpBackend(f"http://127.0.0.1:{free_port()}", "token", retry_for=0.3) as client,
        pytest.raises(BackendError, match="unreachable after 0.3s.*synapse backend serve") as info,
    ):
        client.runs.get_run("x")
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert time.monotonic() - started < 3, "the retry budget must bound the wait"
    assert not client.transport.resent, "a refused connection never reached the server"


@pytest.fixture
def silent_server():
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    done.set()
    thread.join()
    listener.close()
    for conn in accepted:
        conn.close()


def test_a_server_that_never_answers_is_a_timeout(silent_server):
    with (
        HttpBackend(silent_server, "token", timeout=0.2, retry_for=0.5) as client,
        pytest.raises(
            BackendError,
            match=r"GET /runs/x timed out \(ReadTimeout: no answer within the 0.2s "
            r"timeout, retried for 0.5s\)",
        ) as info,  # fmt: skip
    ):
        client.runs.get_run("x")
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert client.transport.resent, "a request that timed out may have been received"


def test_run_not_found_over_a_real_answer_is_ours(backend_server):
    with HttpBackend(backend_server.url, backend_server.token) as client:
        with pytest.raises(RunNotFound, match="no run or job with id 'ghost'"):
            client.runs.update("ghost", pid=1)
        with pytest.raises(BackendError, match=r"failed with 404: Not Found \(no such endpoint"):
            client.transport.call("GET", "/no/such/route")


@pytest.mark.parametrize(
    ("host", "token", "says"),
    [
        ("http://127.0.0.1:9", None, "SYNAPSE_HOST is 'http://127.0.0.1:9' but SYNAPSE_ACCESS_TOKEN is not"),
        ("127.0.0.1:8000", "t", "SYNAPSE_HOST is '127.0.0.1:8000', not an http.s. URL; set it like 'http://"),
    ],
    ids=["no-token", "no-scheme"],
)  # fmt: skip
def test_bad_settings_are_refused_before_any_request(host, token, says):
    with pytest.raises(UsageError, match=says):
        HttpBackend(host, token)
