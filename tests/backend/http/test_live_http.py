"""The runs list and the live event streams over real HTTP (``synapse backend serve`` on 127.0.0.1)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from synapse_sdk.backend.http import HttpBackend
from synapse_sdk.backend.http.events import read_events
from synapse_sdk.backend.schemas import EventBatch, NewRun, RunStatus
from synapse_sdk.backend.store.feed import RunEvent
from tests.servers import BackendServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    server = BackendServer(tmp_path_factory.mktemp("live") / "home").start()
    yield server
    server.stop()


@pytest.fixture
def backend(server) -> Iterator[HttpBackend]:  # type: ignore[no-untyped-def]
    with HttpBackend(server.url, server.token) as backend:
        yield backend


def auth(server) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {server.token}"}


def new_id(prefix: str) -> str:
    return f"{prefix}-{time.monotonic_ns()}"


def test_the_listing_pages_by_cursor_header_with_filters(server, backend):
    plugin = f"page{time.monotonic_ns()}"
    made = [new_id("page") for _ in range(7)]
    for i, run_id in enumerate(made):
        backend.runs.create_run(NewRun(id=run_id, action="train" if i % 2 else "test", plugin_code=plugin))
    seen, before = [], None
    while True:
        page, before = backend.runs.page_runs(3, plugin=plugin, before=before)
        seen += [r.id for r in page]
        if before is None:
            break
    assert seen == made[::-1]
    trains, _ = backend.runs.page_runs(10, plugin=plugin, action="train", status=[RunStatus.PENDING])
    assert [r.id for r in trains] == made[1::2][::-1]
    answer = httpx.get(f"{server.url}/runs", params={"plugin": plugin, "limit": 2, "summary": "true"},
                       headers=auth(server))  # fmt: skip
    assert answer.status_code == 200
    assert answer.headers["x-next-cursor"] == f"{answer.json()[1]['created_at']!r}~{made[-2]}"
    assert int(answer.headers["x-runs-rev"]) > 0
    assert all(r["metrics"] == {} for r in answer.json())
    last = httpx.get(f"{server.url}/runs", params={"plugin": plugin, "limit": 50}, headers=auth(server))
    assert "x-next-cursor" not in last.headers


def test_a_bad_cursor_or_status_is_one_line_naming_the_field(server):
    bad = httpx.get(f"{server.url}/runs", params={"before": "yesterday"}, headers=auth(server))
    assert bad.status_code == 400
    assert bad.json()["error"] == "UsageError"
    assert bad.json()["detail"].startswith("before: 'yesterday' is not a runs cursor;")
    status = httpx.get(f"{server.url}/runs", params={"status": "DONE"}, headers=auth(server))
    assert status.status_code == 422 and status.json()["detail"].startswith(
        "query.status[0]: input should be"
    )


@pytest.mark.parametrize("path", ["/runs/events/stream", "/runs/anything/events/stream"])
def test_the_streams_need_the_token(server, path):
    assert httpx.get(f"{server.url}{path}").status_code == 401
    wrong = httpx.get(f"{server.url}{path}", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_the_stream_of_an_unknown_run_is_a_404_not_a_stream(server):
    answer = httpx.get(f"{server.url}/runs/ghost/events/stream", headers=auth(server))
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no run or job with id 'ghost'; list them with 'synapse job list'",
                             "error": "RunNotFound"}  # fmt: skip


def stream(server, path: str, headers: dict[str, str] | None = None, **params: object) -> Iterator[RunEvent]:  # type: ignore[no-untyped-def]
    headers = {**auth(server), **(headers or {})}
    with httpx.stream("GET", f"{server.url}{path}", params=params, headers=headers, timeout=20) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        assert answer.headers["cache-control"] == "no-cache"
        yield from read_events(line.encode() + b"\n" for line in answer.iter_lines())


def report(backend, run_id: str, steps: int, pause: float = 0.05) -> threading.Thread:  # type: ignore[no-untyped-def]
    """A worker's reports over HTTP, in a thread: steps of progress, a log and a metric each, then the end."""

    def work() -> None:
        time.sleep(0.3)  # the stream is open first
        for i in range(steps):
            t = time.time()
            backend.runs.write_events(run_id, EventBatch(
                logs=[(t, "INFO", f"step {i} <script>alert(1)</script>", None, None)],
                progress={"train": (i + 1, steps, t)}, metrics=[(t, "train", {"loss": 1 / (i + 1)})],
            ))  # fmt: skip
            time.sleep(pause)
        backend.runs.transition(run_id, [RunStatus.RUNNING], RunStatus.SUCCEEDED, result={"ok": True})

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_a_run_stream_follows_the_run_live_to_its_end(server, backend):
    run_id = new_id("live")
    backend.runs.create_run(NewRun(id=run_id, action="train"), RunStatus.RUNNING)
    worker = report(backend, run_id, 4)
    got = [(e.event, e.data) for e in stream(server, f"/runs/{run_id}/events/stream")]
    worker.join()
    names = [name for name, _ in got]
    assert names[0] == "status" and names[-2:] == ["status", "end"]
    logs = [d["message"] for n, d in got if n == "log"]
    assert logs == [f"step {i} <script>alert(1)</script>" for i in range(4)]  # data, as it was written
    assert [d["values"]["loss"] for n, d in got if n == "metrics"] == [1.0, 0.5, 1 / 3, 0.25]
    progress = [d for n, d in got if n == "progress"]
    assert [p["current"] for p in progress] == [1.0, 2.0, 3.0, 4.0]
    assert progress[-1]["eta"] == 0.0 and progress[-2]["rate"] > 0
    assert got[-1][1] == {"status": "SUCCEEDED", "error": None}
    assert got[-2][1]["result"] == {"ok": True}


def test_last_event_id_resumes_a_run_stream_without_repeats(server, backend):
    run_id = new_id("resume")
    backend.runs.create_run(NewRun(id=run_id, action="train"), RunStatus.RUNNING)
    report(backend, run_id, 3, pause=0).join()
    events = list(stream(server, f"/runs/{run_id}/events/stream"))
    second_log = [e for e in events if e.event == "log"][1]
    resumed = list(stream(server, f"/runs/{run_id}/events/stream", {"Last-Event-ID": second_log.id}))
    assert [e.data["message"] for e in resumed if e.event == "log"] == ["step 2 <script>alert(1)</script>"]
    by_query = list(stream(server, f"/runs/{run_id}/events/stream", after=events[-1].id))
    assert [e.event for e in by_query] == ["status", "progress", "end"]
    tail = list(stream(server, f"/runs/{run_id}/events/stream", log_tail=1, metric_tail=0))
    assert [e.event for e in tail] == ["status", "log", "progress", "end"]


def test_the_runs_stream_tells_of_runs_created_and_changed_after_the_listing(server, backend):
    listing = httpx.get(f"{server.url}/runs", params={"limit": 1}, headers=auth(server))
    rev = listing.headers["x-runs-rev"]
    run_id = new_id("listed")

    def work() -> None:
        time.sleep(0.3)
        backend.runs.create_run(NewRun(id=run_id, action="train", plugin_code="listed"))
        backend.runs.transition(run_id, [RunStatus.PENDING], RunStatus.RUNNING)
        time.sleep(0.2)
        backend.runs.write_events(run_id, EventBatch(progress={"p": (1, 2, time.time())}))

    worker = threading.Thread(target=work)
    worker.start()
    seen = []
    for event in stream(server, "/runs/events/stream", after=rev, plugin="listed"):
        seen.append((event.data["change"], event.data["run"]["status"], event.data["run"]["progress"]))
        assert event.id == str(event.data["rev"])
        if event.data["run"]["progress"]:
            break
    worker.join()
    assert seen[0][0] == "created"
    assert seen[-1] == ("progress", "RUNNING", {"p": {"current": 1.0, "total": 2.0, "percent": 50.0}})


def test_the_client_resumes_a_stream_across_a_server_restart(tmp_path):
    server = BackendServer(tmp_path / "home").start()
    try:
        with HttpBackend(server.url, server.token, retry_for=20) as backend:
            backend.runs.create_run(NewRun(id="r", action="train"), RunStatus.RUNNING)
            backend.runs.write_events("r", EventBatch(logs=[(time.time(), "INFO", "before", None, None)]))
            events = backend.runs.events("r")
            assert [next(events).event, next(events).data["message"]] == ["status", "before"]
            server.stop()
            server.start()  # same port and store
            backend.runs.write_events("r", EventBatch(logs=[(time.time(), "INFO", "after", None, None)]))
            backend.runs.transition("r", [RunStatus.RUNNING], RunStatus.STOPPED, error="stopped by test")
            rest = list(events)
    finally:
        server.stop()
    assert [e.data.get("message") for e in rest if e.event == "log"] == ["after"]
    assert rest[-1].event == "end" and rest[-1].data == {"status": "STOPPED", "error": "stopped by test"}


def test_stop_of_a_run_that_ended_says_so(server, backend):
    run_id = new_id("ended")
    backend.runs.create_run(NewRun(id=run_id, action="train"), RunStatus.RUNNING)
    backend.runs.transition(run_id, [RunStatus.RUNNING], RunStatus.SUCCEEDED)
    answer = httpx.post(f"{server.url}/runs/{run_id}/stop", headers=auth(server))
    assert (answer.status_code, answer.json()) == (
        200,
        {"id": run_id, "stopping": False, "status": "SUCCEEDED"},
    )
    assert httpx.post(f"{server.url}/runs/{run_id}/stop").status_code == 401
    assert httpx.post(f"{server.url}/runs/ghost/stop", headers=auth(server)).status_code == 404


def test_streams_joining_a_busy_run_at_different_times_each_get_every_event_once(server, backend):
    run_id = new_id("busy")
    backend.runs.create_run(NewRun(id=run_id, action="train"), RunStatus.RUNNING)

    def work() -> None:
        for batch in range(25):
            t = time.time()
            backend.runs.write_events(run_id, EventBatch(
                logs=[(t, "INFO", f"b{batch} l{i}", None, None) for i in range(40)],
                metrics=[(t, "m", {"b": batch, "i": i}) for i in range(10)],
                progress={"p": (batch + 1, 25, t)},
            ))  # fmt: skip
            time.sleep(0.06)
        backend.runs.transition(run_id, [RunStatus.RUNNING], RunStatus.SUCCEEDED)

    got: dict[int, list[RunEvent]] = {}

    def watch(number: int, delay: float, headers: dict[str, str] | None = None) -> None:
        time.sleep(delay)
        got[number] = list(stream(server, f"/runs/{run_id}/events/stream", headers))

    writer = threading.Thread(target=work)
    writer.start()
    watchers = [threading.Thread(target=watch, args=(n, 0.25 * n)) for n in range(6)]
    for t in watchers:
        t.start()
    for t in [writer, *watchers]:
        t.join()
    logs = [e.seq for e in backend.runs.get_logs(run_id)]
    metrics = [m["values"] for m in backend.runs.metric_history(run_id)]
    assert len(logs) == 1000 and len(metrics) == 250
    for number, events in got.items():
        seen_logs = [e.data["seq"] for e in events if e.event == "log"]
        assert seen_logs == logs, f"stream {number}"
        assert [e.data["values"] for e in events if e.event == "metrics"] == metrics, f"stream {number}"
        ids = [tuple(int(p) for p in e.id.split(".")) for e in events]
        assert ids == sorted(ids), f"stream {number}: ids go back"
        assert all(int(e.id.split(".")[0]) == e.data["seq"] for e in events if e.event == "log")
        assert [e.data["current"] for e in events if e.event == "progress"][-1] == 25.0
        assert events[-1].event == "end" and events[-1].data["status"] == "SUCCEEDED"
    # a resume from the middle of the first stream's events gets exactly the rest
    middle = got[0][len(got[0]) // 2]
    rest = list(stream(server, f"/runs/{run_id}/events/stream", {"Last-Event-ID": middle.id}))
    after = [e.data["seq"] for e in got[0][len(got[0]) // 2 + 1 :] if e.event == "log"]
    assert [e.data["seq"] for e in rest if e.event == "log"] == after
