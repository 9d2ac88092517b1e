"""The HTTP backend's API contract, driven in-process through ``httpx.ASGITransport``."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from synapse_sdk.backend.server.app import create_app
from synapse_sdk.backend.store.runs import RunStore
from synapse_sdk.errors import UsageError
from synapse_sdk.settings import Settings

TOKEN = "contract-token-42"


@pytest.fixture
def api(tmp_path: Path):
    """Call the app in-process: ``api("GET", "/runs", token=...)`` -> response."""
    settings = Settings(home=tmp_path / "home", access_token=TOKEN)
    app = create_app(settings)

    def call(method: str, path: str, *, token: str | None = TOKEN, **kwargs):
        async def go():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # like a real server
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.request(method, path, headers=headers, **kwargs)

        return asyncio.run(go())

    call.store = app.state.backend.runs
    return call


def new_run(run_id: str = "r1", **extra):
    return {"id": run_id, "action": "train", "params": {"epochs": 2}, **extra}


def test_app_refuses_to_start_without_a_token(tmp_path):
    with pytest.raises(UsageError, match="SYNAPSE_ACCESS_TOKEN is not set"):
        create_app(Settings(home=tmp_path))


def test_health_is_open_and_the_api_is_not(api):
    assert api("GET", "/health", token=None).json()["status"] == "ok"
    for token in (None, "wrong-token"):
        response = api("GET", "/runs", token=token)
        assert response.status_code == 401
        assert "access token" in response.json()["detail"]


def test_run_lifecycle_over_http(api):
    created = api("POST", "/runs", json=new_run())
    assert created.status_code == 201
    assert created.json()["status"] == "PENDING"
    moved = api("POST", "/runs/r1/transition",
                json={"expected": ["PENDING"], "new": "RUNNING", "fields": {"pid": 7}})  # fmt: skip
    assert moved.json() == {"moved": True}
    again = api("POST", "/runs/r1/transition", json={"expected": ["PENDING"], "new": "RUNNING"})
    assert again.json() == {"moved": False}, "compare-and-set must refuse a run not in 'expected'"
    api("PATCH", "/runs/r1", json={"fields": {"stop_requested": 1}})
    finish = {"expected": ["RUNNING"], "new": "SUCCEEDED", "fields": {"result": {"loss": 0.1}}}
    done = api("POST", "/runs/r1/transition", json=finish)
    assert done.json()["moved"] is True
    record = api("GET", "/runs/r1").json()
    assert (record["status"], record["pid"], record["stop_requested"]) == ("SUCCEEDED", 7, True)
    assert record["result"] == {"loss": 0.1}
    assert [r["id"] for r in api("GET", "/runs", params={"status": "SUCCEEDED"}).json()] == ["r1"]


def test_events_are_stored_once_even_when_a_batch_is_retried(api):
    api("POST", "/runs", json=new_run())
    now = time.time()
    batch = {
        "batch_id": "b-1",
        "logs": [[now, "INFO", "hello", None, None], [now, "INFO", None, "ckpt", {"epoch": 1}]],
        "progress": {"training": [1, 2, now]},
        "metrics": [[now, "training", {"loss": 0.5}]],
        "heartbeat": now,
    }
    stored = {"stored": 4, "duplicate": False, "stop_requested": False}
    assert api("POST", "/runs/r1/events", json=batch).json() == stored
    assert api("POST", "/runs/r1/events", json=batch).json() == {**stored, "stored": 0, "duplicate": True}
    api("PATCH", "/runs/r1", json={"fields": {"stop_requested": 1}})
    answer = api("POST", "/runs/r1/events", json={**batch, "batch_id": "b2", "logs": []}).json()
    assert answer["stop_requested"] is True  # how a worker on another host learns of a stop
    logs = api("GET", "/runs/r1/logs").json()
    assert [(e["message"], e["event"]) for e in logs] == [("hello", None), (None, "ckpt")]
    assert api("GET", "/runs/r1/logs", params={"after": logs[0]["seq"]}).json()[0]["data"] == {"epoch": 1}
    assert api("GET", "/runs/r1/logs/count").json() == {"count": 2}
    record = api("GET", "/runs/r1").json()
    assert record["progress"]["training"]["percent"] == 50.0
    assert record["heartbeat_at"] == pytest.approx(now)
    assert api("GET", "/runs/r1/metrics").json()[0]["values"] == {"loss": 0.5}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "detail"),
    [
        ("GET", "/runs/nope", None, 404, "no run or job with id 'nope'"),
        ("GET", "/runs/nope/logs", None, 404, "no run or job with id 'nope'"),
        ("POST", "/runs/nope/events", {"batch_id": "x", "logs": [[1.0, "INFO", "m", None, None]]}, 404,
         "no run or job with id 'nope'"),
        ("POST", "/runs", new_run(), 409, "exists already"),
        ("PATCH", "/runs/r1", {"fields": {"colour": "red"}}, 422, "body.fields.colour: unknown field"),
        ("POST", "/runs/r1/transition", {"expected": ["PENDING"], "new": "DONE"}, 422, "new"),
        ("PATCH", "/runs/r1", {"fields": {"pid": "notanint"}}, 422, "body.fields.pid: input should"),
    ],
    ids=["unknown-run", "logs-of-unknown-run", "events-of-unknown-run", "duplicate-id", "unknown-field",
         "bad-status", "bad-field"],
)  # fmt: skip
def test_errors_are_json_with_a_clear_detail(api, method, path, body, status, detail):
    api("POST", "/runs", json=new_run())
    response = api(method, path, json=body)
    assert response.status_code == status
    assert detail in str(response.json()["detail"])


def test_the_server_reads_the_same_store_as_the_embedded_backend(api, tmp_path):
    api("POST", "/runs", json=new_run("shared"))
    store = RunStore(tmp_path / "home" / "synapse.db")
    assert store.get_run("shared").action == "train"
