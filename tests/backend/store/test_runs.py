"""The embedded run store: compare-and-set status, events, latest metrics and their history."""

from __future__ import annotations

import pytest

from synapse_sdk.backend.schemas import EventBatch, NewRun, RunStatus
from synapse_sdk.backend.store.runs import RunStore
from synapse_sdk.errors import RunConflict, RunNotFound, UsageError


@pytest.fixture
def runs(tmp_path) -> RunStore:
    return RunStore(tmp_path / "synapse.db")


def test_a_new_run_is_pending(runs):
    record = runs.create_run(NewRun(id="r1", action="train", params={"epochs": 3}))
    assert record.status is RunStatus.PENDING
    assert record.params == {"epochs": 3}
    assert record.created_at > 0


def test_a_taken_id_is_a_conflict(runs):
    runs.create_run(NewRun(id="r1", action="train"))
    with pytest.raises(RunConflict, match="a run with id 'r1' exists already"):
        runs.create_run(NewRun(id="r1", action="train"))


def test_status_moves_only_from_the_expected_state(runs):
    runs.create_run(NewRun(id="r1", action="train"))
    assert runs.transition("r1", [RunStatus.PENDING], RunStatus.RUNNING, started_at=1.0)
    assert not runs.transition("r1", [RunStatus.PENDING], RunStatus.RUNNING)
    assert runs.transition("r1", [RunStatus.RUNNING], RunStatus.SUCCEEDED, result={"ok": True})
    assert not runs.transition("r1", [RunStatus.RUNNING], RunStatus.FAILED, error="late")
    record = runs.get_run("r1")
    assert record.status is RunStatus.SUCCEEDED
    assert record.result == {"ok": True}
    assert record.error is None


def test_a_status_may_be_given_as_its_text_but_must_be_one(runs):
    runs.create_run(NewRun(id="r1", action="train"))
    with pytest.raises(UsageError, match="'DONE' is not a run status; use one of PENDING, RUNNING"):
        runs.transition("r1", ["PENDING"], "DONE")
    with pytest.raises(UsageError, match="unknown run fields colour"):
        runs.transition("r1", ["PENDING"], "FAILED", colour="red")
    assert runs.get_run("r1").status is RunStatus.PENDING  # nothing half-written
    assert runs.transition("r1", ["PENDING", "RUNNING"], "FAILED", error="boom", lost_events=2)
    record = runs.get_run("r1")
    assert (record.status, record.error, record.lost_events) == (RunStatus.FAILED, "boom", 2)


def test_events_give_progress_latest_metrics_and_history(runs):
    runs.create_run(NewRun(id="r1", action="train"))
    runs.write_events(
        "r1",
        EventBatch(
            logs=[(1.0, "INFO", "hello", None, None), (2.0, "INFO", None, "ckpt", {"epoch": 1})],
            progress={"training": (5, 20, 2.0)},
            metrics=[(1.0, "training", {"loss": 0.9}), (2.0, "training", {"loss": 0.5, "acc": 0.7})],
        ),
    )
    runs.write_events("r1", EventBatch(progress={"training": (10, 20, 3.0)}))
    record = runs.get_run("r1")
    assert record.progress == {"training": {"current": 10, "total": 20, "percent": 50.0}}
    assert record.metrics == {"training": {"loss": 0.5, "acc": 0.7}}
    assert [h["values"]["loss"] for h in runs.metric_history("r1")] == [0.9, 0.5]
    logs = runs.get_logs("r1")
    assert [(e.message, e.event, e.data) for e in logs] == [
        ("hello", None, None),
        (None, "ckpt", {"epoch": 1}),
    ]
    assert runs.get_logs("r1", after=logs[0].seq)[0].event == "ckpt"


def test_unknown_run(runs):
    with pytest.raises(RunNotFound, match="synapse job list"):
        runs.get_run("nope")


def test_list_is_newest_first_and_filters_by_status(runs):
    for i in range(3):
        runs.create_run(NewRun(id=f"r{i}", action="train"))
    runs.transition("r1", [RunStatus.PENDING], RunStatus.RUNNING)
    assert [r.id for r in runs.list_runs()] == ["r2", "r1", "r0"]
    assert [r.id for r in runs.list_runs(status=RunStatus.RUNNING)] == ["r1"]


def test_the_store_is_in_wal_mode(runs):
    assert runs.db.connect().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
