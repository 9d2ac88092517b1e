"""Every field is checked at the door, and one bad row never breaks a read.

The door: the embedded store and the HTTP API refuse the same bad values (a progress total of
0, ``pid: "notanint"``, ``started_at: "yesterday"``, a 4,300-digit version, a run created
already ended, ids like ``../../x`` or 2 MB long, lone surrogates), with a 4xx naming the
field. The reads: rows written around the door (by an older version, or by hand with
``sqlite3``) are listed as *damaged*, and every listing (``GET /runs``, ``synapse job list``,
``job get``, ``plugin list``) still answers.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from synapse_sdk.backend.http import HttpBackend
from synapse_sdk.backend.protocol import Backend
from synapse_sdk.backend.schemas import EventBatch, NewRelease, NewRun, RunStatus
from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.errors import RunNotFound, UsageError
from tests.conftest import run_cli
from tests.servers import BackendServer

NOW = time.time()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = BackendServer(tmp_path_factory.mktemp("door") / "home").start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "http"])
def backend(request, tmp_path):
    if request.param == "embedded":
        found: Backend = EmbeddedBackend(tmp_path / "door.db", tmp_path / "archives")
    else:
        server = request.getfixturevalue("server")
        found = HttpBackend(server.url, server.token, retry_for=2.0)
    yield found
    found.close()


@pytest.fixture
def api(server):
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}) as client:
        yield client


def fresh_run(backend: Backend, name: str) -> str:
    run_id = f"{name}-{time.monotonic_ns()}"
    backend.runs.create_run(NewRun(id=run_id, action="train"))
    return run_id


# -- the door -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"pid": "notanint"}, "pid"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"pid": 10**30}, "pid"),
        ({"heartbeat_at": float("nan")}, "heartbeat_at"),
        ({"lost_events": -1}, "lost_events"),
        ({"error": "x" * 300_000}, "error"),
        ({"extra": ["not", "a", "mapping"]}, "extra"),
    ],
    ids=["pid-text", "started-text", "pid-huge", "nan-time", "negative-count", "huge-error", "extra-list"],
)
def test_bad_run_fields_are_refused_and_nothing_changes(backend, fields, field):
    run_id = fresh_run(backend, "fields")
    with pytest.raises(UsageError, match=field):
        backend.runs.update(run_id, **fields)
    with pytest.raises(UsageError, match=field):
        backend.runs.transition(run_id, [RunStatus.PENDING], RunStatus.FAILED, **fields)
    record = backend.runs.get_run(run_id)
    assert (record.status, record.pid, record.started_at, record.damaged) == (
        RunStatus.PENDING,
        None,
        None,
        [],
    )


@pytest.mark.parametrize(
    ("batch", "problem"),
    [
        (EventBatch(progress={"train": (0.0, 0.0, NOW)}), "total must be above 0"),
        (EventBatch(progress={"train": (11.0, 10.0, NOW)}), "at most the total"),
        (EventBatch(progress={"train": (float("nan"), 10.0, NOW)}), "progress"),
        (EventBatch(logs=[(NOW, "NOTICE", "hi", None, None)]), "logs"),
        (EventBatch(logs=[(NOW, "INFO", "x" * 300_000, None, None)]), "logs"),
        (EventBatch(metrics=[(NOW, "", {"loss": 1.0})]), "metrics"),
        (EventBatch(heartbeat=1e30), "heartbeat"),
        (EventBatch(started={"pid": "notanint"}), "pid"),
    ],
    ids=["total-0", "over-total", "nan", "level", "huge-message", "empty-category", "heartbeat", "started"],
)
def test_a_bad_event_batch_is_refused_whole(backend, batch, problem):
    run_id = fresh_run(backend, "events")
    batch.logs.append((NOW, "INFO", "a neighbour", None, None))
    with pytest.raises(UsageError, match=problem):
        backend.runs.write_events(run_id, batch)
    assert backend.runs.count_logs(run_id) == 0  # nothing half-written
    assert backend.runs.get_run(run_id).progress == {}


def test_a_run_cannot_be_created_already_ended(backend):
    for status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.STOPPED):
        with pytest.raises(UsageError, match="PENDING.*RUNNING"):
            backend.runs.create_run(
                NewRun(id=f"ended-{status.value}-{time.monotonic_ns()}", action="a"), status
            )


@pytest.mark.parametrize("run_id", ["../../x", "a/b", "x" * 129, "x" * 2_000_000, "", "-lead", "ok\n", "Ü"])
def test_run_ids_no_run_can_have_are_refused_and_never_found(backend, run_id):
    with pytest.raises(ValueError, match="id"):
        NewRun(id=run_id, action="train")
    with pytest.raises(RunNotFound):
        backend.runs.get_run(run_id)


def test_malformed_ids_over_http_are_404_on_every_route(api):
    for path in [
        "/runs/..%2F..%2Fx",
        "/runs/%C3%9C/logs",
        f"/runs/{'x' * 300}/metrics",
        "/runs/a.b~/logs/count",
    ]:
        assert api.get(path).status_code == 404, path  # by the id check, or as no route at all
    assert api.post("/runs", json={"id": "../../x", "action": "a"}).status_code == 422
    assert (
        api.post("/runs", params={"status": "SUCCEEDED"}, json={"id": "s1", "action": "a"}).status_code == 422
    )


def test_unknown_runs_are_404_on_every_sub_route(api):
    for method, path, body in [
        ("GET", "/runs/ghost", None),
        ("PATCH", "/runs/ghost", {"fields": {"pid": 1}}),
        ("PATCH", "/runs/ghost", {"fields": {}}),
        ("POST", "/runs/ghost/transition", {"expected": ["PENDING"], "new": "RUNNING"}),
        ("POST", "/runs/ghost/events", {"batch_id": "b1"}),
        ("GET", "/runs/ghost/logs", None),
        ("GET", "/runs/ghost/logs/count", None),
        ("GET", "/runs/ghost/metrics", None),
        ("GET", "/runs/ghost/pid_started", None),
    ]:
        response = api.request(method, path, json=body)
        assert (response.status_code, response.json()["error"]) == (404, "RunNotFound"), (method, path)


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("GET", "/runs/r1/logs", {"after": 10**30}, None),
        ("GET", "/runs/r1/logs", {"limit": 10**30}, None),
        ("GET", "/runs", {"limit": -1}, None),
        ("PATCH", "/runs/r1", None, {"fields": {"pid": [1, 2]}}),
        ("POST", "/runs", None, {"id": "s2", "action": "a", "params": {"name": "\ud800"}}),
        ("POST", "/releases", None, {"release": {}, "archive_b64": "\u00f13"}),
    ],
    ids=["huge-after", "huge-limit", "negative-limit", "list-pid", "lone-surrogate", "non-ascii-base64"],
)
def test_what_once_gave_500_is_a_4xx_naming_the_field(api, method, path, params, body):
    api.post("/runs", json={"id": "r1", "action": "train"})
    content = None if body is None else json.dumps(body).encode()  # ensure_ascii: "\ud800" stays an escape
    response = api.request(
        method, path, params=params, content=content, headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"] == "UsageError"


def test_a_release_version_of_4300_digits_is_refused(backend):
    with pytest.raises(ValueError, match="version"):
        NewRelease(
            code="p", version="1" * 4300 + ".0.0", name="P", category="neural_net", config={},
            checksum="0" * 64, source_checksum="0" * 64, size=1,
        )  # fmt: skip


def test_a_config_with_a_4300_digit_version_is_one_line(make_plugin):
    plugin = make_plugin(
        "code: long\nname: Long\nversion: '" + "9" * 4300 + ".0.0'\ncategory: neural_net\n"
        "actions:\n  train:\n    entrypoint: plugin.train.Train\n"
    )
    result = run_cli("plugin", "check", "--path", str(plugin))
    assert result.returncode == 2
    assert "at most 64 characters" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3 and "Traceback" not in result.stderr


# -- tolerant reads -----------------------------------------------------------------------------


def poison(db: Path) -> None:
    """Rows an older version or a hand with sqlite3 could leave: each breaks one of today's rules."""
    with sqlite3.connect(db) as conn:
        rows = [
            ("bad-pid", "RUNNING", "pid", "notanint"),
            ("bad-start", "SUCCEEDED", "started_at", "yesterday"),
            ("bad-params", "SUCCEEDED", "params", "{not json"),
            ("bad-status", "WHATEVER", "host", "h"),
        ]
        for run_id, status, column, value in rows:
            conn.execute(
                f"INSERT INTO runs (id, action, status, created_at, {column}) VALUES (?, 'train', ?, ?, ?)",
                (run_id, status, NOW, value),
            )
        zero = "zero-total"
        conn.execute(
            "INSERT INTO runs (id, action, status, created_at) VALUES (?, 'a', 'SUCCEEDED', ?)", (zero, NOW)
        )
        conn.execute(
            "INSERT INTO run_progress VALUES (?, 'train', 5, 0, ?)", (zero, NOW)
        )  # the ZeroDivisionError
        conn.execute(
            "INSERT INTO run_metrics (run_id, category, ts, data) VALUES (?, 'm', ?, 'nan{')", (zero, NOW)
        )
        conn.execute(
            "INSERT INTO run_logs (run_id, ts, level, message, data) VALUES (?, 'x', 'INFO', 'x', '{')",
            (zero,),
        )
        long_version = "9" * 4300 + ".0.0"
        release = ("long", long_version, "L", "neural_net", "", "{}", "0" * 64, "0" * 64, "/none", 1, "", NOW)
        conn.execute("INSERT INTO plugin_releases VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", release)


@pytest.fixture
def poisoned(synapse_home: Path) -> EmbeddedBackend:
    backend = EmbeddedBackend(synapse_home / "synapse.db", synapse_home / "archives")
    backend.runs.create_run(NewRun(id="healthy", action="train"))
    poison(synapse_home / "synapse.db")
    return backend


def test_a_listing_shows_bad_rows_as_damaged(poisoned):
    records = {r.id: r for r in poisoned.runs.list_runs(limit=100)}
    assert records["healthy"].damaged == []
    assert records["bad-pid"].damaged == ["pid"] and records["bad-pid"].pid is None
    assert records["bad-start"].damaged == ["started_at"]
    assert records["bad-params"].damaged == ["params"] and records["bad-params"].params == {}
    assert records["bad-status"].damaged == ["status"] and records["bad-status"].status is RunStatus.FAILED
    zero = records["zero-total"]
    assert zero.damaged == ["metrics", "progress"]
    assert zero.progress["train"]["percent"] == 0.0
    assert poisoned.runs.get_logs("zero-total")[0].message == "[damaged log entry: cannot be read]"
    assert poisoned.runs.get_run("zero-total").to_json()["damaged"] == ["metrics", "progress"]


def test_a_listing_skips_a_damaged_release(poisoned, caplog):
    assert poisoned.releases.list_releases() == []
    assert "is damaged and was skipped" in caplog.text


def test_every_read_command_still_answers(poisoned, synapse_home):
    listing = run_cli("job", "list")
    assert listing.returncode == 0, listing.stderr
    assert "damaged: run bad-pid: pid could not be read" in listing.stdout
    assert "healthy" in listing.stdout
    as_json = run_cli("job", "list", "--json")
    assert as_json.returncode == 0 and len(json.loads(as_json.stdout)) == 6
    shown = run_cli("job", "get", "zero-total")
    assert shown.returncode == 0, shown.stderr
    assert "damaged      metrics, progress could not be read" in shown.stdout
    for args in (["job", "logs", "zero-total"], ["plugin", "list"]):
        result = run_cli(*args)
        assert result.returncode == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_the_http_api_lists_a_poisoned_store(tmp_path):
    home = tmp_path / "home"
    EmbeddedBackend(home / "synapse.db", home / "archives").runs.create_run(NewRun(id="healthy", action="a"))
    poison(home / "synapse.db")
    server = BackendServer(home).start()
    try:
        client = HttpBackend(server.url, server.token)
        try:
            assert {r.id: r.damaged for r in client.runs.list_runs()}["zero-total"] == ["metrics", "progress"]
            assert client.runs.get_run("bad-status").status is RunStatus.FAILED
            assert client.releases.list_releases() == []
        finally:
            client.close()
    finally:
        server.stop()


def test_a_data_file_whose_bytes_are_gone_is_404_not_500(api):
    record = {"storage": 1, "path": "never-uploaded.bin", "size": 3, "checksum": "0" * 64}
    created = api.post("/data_files/", json=record)
    assert created.status_code == 201, created.text
    response = api.get(f"/data_files/{created.json()['id']}/download/")
    assert (response.status_code, response.json()["error"]) == (404, "ResourceNotFound")
    assert "upload the file again" in response.json()["detail"]
