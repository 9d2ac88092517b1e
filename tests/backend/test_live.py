"""Watching runs: the runs list's filters and keyset paging, and the live feeds of the store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from synapse_sdk.backend.schemas import EventBatch, NewRun, RunStatus
from synapse_sdk.backend.store.feed import LIVENESS_EVERY, RunFeed, RunsFeed, position, store_rev
from synapse_sdk.backend.store.runs import RunStore
from synapse_sdk.errors import RunNotFound, UsageError


@pytest.fixture
def runs(tmp_path) -> RunStore:  # type: ignore[no-untyped-def]
    return RunStore(tmp_path / "synapse.db")


def seed(runs: RunStore, count: int) -> list[str]:
    """``count`` runs of two plugins, three actions and every status; their ids newest first."""
    ids = []
    for i in range(count):
        run_id = f"r{i:05d}"
        runs.create_run(NewRun(id=run_id, action=("train", "test", "export")[i % 3], plugin_code=f"p{i % 2}"))
        if i % 4:
            runs.transition(run_id, [RunStatus.PENDING], RunStatus.RUNNING)
        if i % 4 == 2:
            runs.transition(run_id, [RunStatus.RUNNING], RunStatus.SUCCEEDED)
        ids.append(run_id)
    return ids[::-1]


def walk(runs: RunStore, limit: int, **filters: object) -> list[str]:
    """Every id of a listing, page by page through the cursors."""
    seen, before = [], None
    while True:
        page, before = runs.page_runs(limit, before=before, **filters)  # type: ignore[arg-type]
        seen += [r.id for r in page]
        if before is None:
            return seen


def test_paging_visits_every_run_once_newest_first_with_any_filter(runs):
    ids = seed(runs, 90)
    records = {r.id: r for r in runs.page_runs(1000)[0]}
    assert walk(runs, 7) == ids
    assert walk(runs, 90) == ids  # a full last page: one more, empty, page ends it
    assert walk(runs, 4, action="test", plugin="p1") == [
        i for i in ids if (records[i].action, records[i].plugin_code) == ("test", "p1")
    ]
    both = walk(runs, 5, status=[RunStatus.PENDING, RunStatus.SUCCEEDED])
    assert both == [i for i in ids if records[i].status in ("PENDING", "SUCCEEDED")]
    assert len(both) == 45
    assert walk(runs, 3, status=RunStatus.RUNNING, action="nope") == []
    assert [r.id for r in runs.list_runs(limit=3)] == ids[:3]  # the old callers' call


def test_two_runs_created_in_the_same_instant_are_ordered_by_id_and_neither_is_skipped(runs):
    seed(runs, 5)
    runs.db.write_one("UPDATE runs SET created_at = 1000.0")
    assert walk(runs, 2) == ["r00004", "r00003", "r00002", "r00001", "r00000"]


def test_a_summary_listing_reads_no_metric_rows(runs):
    seed(runs, 2)
    runs.write_events("r00001", EventBatch(metrics=[(time.time(), "train", {"loss": 0.5})]))
    assert runs.page_runs(10)[0][0].metrics == {"train": {"loss": 0.5}}
    statements: list[str] = []
    runs.db.connect().set_trace_callback(statements.append)
    (first, _), _ = runs.page_runs(10, summary=True)
    runs.db.connect().set_trace_callback(None)
    assert first.metrics == {}
    assert not [s for s in statements if "run_metrics" in s]


@pytest.mark.parametrize(
    "filters",
    [{}, {"status": [RunStatus.RUNNING]}, {"plugin": "p1"}, {"action": "train"}],
)
def test_every_page_is_an_index_range_not_a_scan_of_the_runs(runs, filters):
    from synapse_sdk.backend.store.listing import page_queries

    seed(runs, 3)
    for query, args in page_queries(50, before="1.5~r1", **filters):
        plan = " ".join(str(row[3]) for row in runs.db.query(f"EXPLAIN QUERY PLAN {query}", args))
        assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan


def test_a_page_of_10000_runs_is_read_in_milliseconds(runs):
    now = time.time()
    with runs.db.write() as conn:  # seeded in one transaction: what is timed is the reading
        conn.executemany(
            "INSERT INTO runs (id, action, plugin_code, params, status, created_at, rev, created_rev)"
            " VALUES (?, 'train', 'p', '{}', ?, ?, ?, ?)",
            [
                (f"x{i:05d}", "SUCCEEDED" if i % 9 else "RUNNING", now + i, i + 1, i + 1)
                for i in range(10_000)
            ],
        )
    page, cursor = runs.page_runs(50, summary=True)
    for _ in range(100):  # deep into the list
        page, cursor = runs.page_runs(50, before=cursor, summary=True)
    start = time.perf_counter()
    page, _ = runs.page_runs(50, before=cursor, status=RunStatus.RUNNING, summary=True)
    assert time.perf_counter() - start < 0.25
    assert len(page) == 50 and all(r.status == "RUNNING" for r in page)


@pytest.mark.parametrize("cursor", ["zz", "1.5", "nan~r1", "1.5~../x", "inf~r1", "~"])
def test_a_cursor_that_no_page_gave_is_refused_naming_before(runs, cursor):
    with pytest.raises(UsageError, match=r"^before: .* is not a runs cursor; pass the X-Next-Cursor"):
        runs.page_runs(10, before=cursor)


def test_an_unknown_status_and_a_page_size_out_of_range_are_refused(runs):
    with pytest.raises(UsageError, match=r"^status: 'DONE' is not a run status"):
        runs.page_runs(10, status=["DONE"])  # type: ignore[list-item]
    with pytest.raises(UsageError, match=r"^limit: 0 is out of range"):
        runs.page_runs(0)


# -- the store's change number and the feeds ---------------------------------------------------


def test_every_write_to_a_run_moves_the_change_number_but_a_heartbeat_alone_does_not(runs):
    runs.create_run(NewRun(id="a", action="x"))
    revs = [store_rev(runs)]
    for write in (
        lambda: runs.transition("a", [RunStatus.PENDING], RunStatus.RUNNING),
        lambda: runs.update("a", pid=os.getpid()),
        lambda: runs.write_events("a", EventBatch(logs=[(time.time(), "INFO", "hi", None, None)])),
        lambda: runs.write_events("a", EventBatch(progress={"p": (1, 2, time.time())})),
        lambda: runs.write_events("a", EventBatch(metrics=[(time.time(), "m", {"loss": 1})])),
    ):
        write()
        revs.append(store_rev(runs))
    assert revs == sorted(set(revs)), revs
    runs.write_events("a", EventBatch(heartbeat=time.time()))
    assert store_rev(runs) == revs[-1]


def drain(feed: RunFeed) -> list[tuple[str, str, dict]]:
    events = []
    for _ in range(100):
        found = feed.poll()
        events += [(e.event, e.id, e.data) for e in found]
        if not found and not feed.pending:
            return events
    raise AssertionError("the feed never settled")


def test_a_run_feed_gives_status_logs_metrics_progress_then_end_and_nothing_twice(runs):
    runs.create_run(NewRun(id="a", action="train"), RunStatus.RUNNING)
    feed = RunFeed(runs, "a")
    (status,) = drain(feed)
    assert status[0] == "status" and status[2]["status"] == "RUNNING" and "metrics" not in status[2]
    t = time.time()
    runs.write_events("a", EventBatch(
        logs=[(t, "INFO", "one", None, None), (t, "WARNING", "two", None, None)],
        progress={"train": (5, 10, t)}, metrics=[(t, "train", {"loss": 0.5})],
    ))  # fmt: skip
    events = drain(feed)
    assert [(e, i) for e, i, _ in events] == [
        ("log", "1.0"),
        ("log", "2.0"),
        ("metrics", "2.1"),
        ("progress", "2.1"),
    ]
    assert events[2][2] == {"seq": 1, "category": "train", "ts": t, "values": {"loss": 0.5}}
    assert events[3][2]["percent"] == 50.0 and events[3][2]["rate"] is None
    runs.write_events("a", EventBatch(progress={"train": (7, 10, t + 1)}))
    ((_, _, progress),) = drain(feed)
    assert (progress["rate"], progress["eta"]) == (2.0, 1.5)
    assert drain(feed) == []  # nothing changed: nothing sent
    runs.write_events("a", EventBatch(logs=[(t, "INFO", "last", None, None)]))
    runs.transition("a", [RunStatus.RUNNING], RunStatus.FAILED, error="boom")
    names = [(e, d.get("message") or d.get("status")) for e, _, d in drain(feed)]
    assert names == [("status", "FAILED"), ("log", "last"), ("end", "FAILED")]
    assert feed.ended and feed.poll() == []


def test_a_feed_resumed_at_an_event_id_repeats_no_log_or_metric(runs):
    runs.create_run(NewRun(id="a", action="train"), RunStatus.RUNNING)
    t = time.time()
    for i in range(5):
        runs.write_events(
            "a", EventBatch(logs=[(t, "INFO", f"l{i}", None, None)], metrics=[(t, "m", {"i": i})])
        )
    first = drain(RunFeed(runs, "a"))
    cut = next(i for e, i, d in first if e == "log" and d["message"] == "l2")
    after = position(cut)
    assert after is not None
    resumed = drain(RunFeed(runs, "a", after_log=after[0], after_metric=after[1]))
    kinds = [(e, d.get("message", d.get("values"))) for e, _, d in resumed]
    # all logs come before the metrics: the cut after l2 is before every metric
    assert kinds == [
        ("status", None),
        ("log", "l3"),
        ("log", "l4"),
        *[("metrics", {"i": i}) for i in range(5)],
    ]
    cut = first[-1][1]  # the last event: everything was sent
    done = position(cut)
    assert done == (5, 5)
    assert [e for e, _, _ in drain(RunFeed(runs, "a", after_log=5, after_metric=5))] == ["status"]
    tail = drain(RunFeed(runs, "a", log_tail=1, metric_tail=0))
    assert [(e, d.get("message")) for e, _, d in tail] == [("status", None), ("log", "l4")]


def test_a_long_history_comes_a_chunk_a_poll_without_waiting(runs):
    from synapse_sdk.backend.store.feed import CHUNK

    runs.create_run(NewRun(id="a", action="train"), RunStatus.RUNNING)
    t = time.time()
    runs.write_events("a", EventBatch(logs=[(t, "INFO", f"l{i}", None, None) for i in range(CHUNK + 5)]))
    feed = RunFeed(runs, "a")
    assert len(feed.poll()) == 1 + CHUNK and feed.pending
    assert [e.data["message"] for e in feed.poll()] == [f"l{i}" for i in range(CHUNK, CHUNK + 5)]
    assert not feed.pending


def test_an_idle_feed_costs_one_key_lookup_a_poll(runs):
    runs.create_run(NewRun(id="a", action="train"), RunStatus.RUNNING)
    feed = RunFeed(runs, "a")
    drain(feed)
    statements: list[str] = []
    runs.db.connect().set_trace_callback(statements.append)
    for _ in range(10):
        assert feed.poll() == []
    runs.db.connect().set_trace_callback(None)
    assert statements == ["SELECT rev FROM runs WHERE id = 'a'"] * 10


def test_a_feed_of_an_unknown_run_is_run_not_found(runs):
    with pytest.raises(RunNotFound, match="no run or job with id 'ghost'"):
        RunFeed(runs, "ghost").poll()


def test_a_worker_that_died_unrecorded_ends_the_feed(runs):
    from synapse_sdk.execution.base import reconcile

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    runs.create_run(NewRun(id="a", action="train"), RunStatus.RUNNING)
    runs.update(
        "a", pid=dead.pid, host=socket.gethostname(), started_at=time.time(), heartbeat_at=time.time()
    )
    clock = [0.0]
    feed = RunFeed(runs, "a", liveness=lambda r: reconcile(runs, r), clock=lambda: clock[0])
    drain(feed)
    assert feed.poll() == []  # quiet, but not for long enough to look
    clock[0] += LIVENESS_EVERY
    events = feed.poll()
    assert [e.event for e in events] == ["status", "end"]
    assert events[-1].data["status"] == "FAILED" and "worker" in events[-1].data["error"]


def test_the_runs_feed_tells_created_status_and_progress_and_coalesces(runs):
    runs.create_run(NewRun(id="old", action="train"))
    feed = RunsFeed(runs)  # from now on
    assert feed.poll() == []
    runs.create_run(NewRun(id="new", action="train"))
    runs.transition("old", [RunStatus.PENDING], RunStatus.RUNNING)
    changes = [(e.data["change"], e.data["run"]["id"]) for e in feed.poll()]
    assert changes == [("created", "new"), ("updated", "old")]
    for i in range(3):  # three batches between two polls: one event, the latest state
        runs.write_events("old", EventBatch(progress={"p": (i + 1, 3, time.time())}))
    runs.transition("new", [RunStatus.PENDING], RunStatus.RUNNING)
    events = feed.poll()
    assert [(e.data["change"], e.data["run"]["id"]) for e in events] == [
        ("progress", "old"),
        ("status", "new"),
    ]
    assert events[0].data["run"]["progress"]["p"]["current"] == 3.0
    assert [int(e.id) for e in events] == [e.data["rev"] for e in events] and int(events[-1].id) == store_rev(
        runs
    )
    assert not feed.changed()


def test_the_runs_feed_filters_and_shows_a_run_once_more_when_it_leaves_the_filter(runs):
    runs.create_run(NewRun(id="a", action="train", plugin_code="p"), RunStatus.RUNNING)
    runs.create_run(NewRun(id="b", action="test", plugin_code="p"), RunStatus.RUNNING)
    feed = RunsFeed(runs, 0, status=[RunStatus.RUNNING], action="train")
    assert [e.data["run"]["id"] for e in feed.poll()] == ["a"]
    runs.transition("a", [RunStatus.RUNNING], RunStatus.SUCCEEDED)
    runs.transition("b", [RunStatus.RUNNING], RunStatus.SUCCEEDED)
    ((event),) = feed.poll()
    assert (event.data["change"], event.data["run"]["id"], event.data["run"]["status"]) == (
        "status",
        "a",
        "SUCCEEDED",
    )
