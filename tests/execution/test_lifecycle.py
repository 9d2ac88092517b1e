"""The run lifecycle: one module creates runs and changes statuses; a start mark is never lost."""

from __future__ import annotations

import ast
import contextlib
import threading
import time
from pathlib import Path

import pytest

from synapse_sdk.backend.schemas import NewRun, RunStatus
from synapse_sdk.errors import RunConflict
from synapse_sdk.execution import lifecycle

PACKAGE = Path(__file__).resolve().parents[2] / "synapse_sdk"
#: The stores and the HTTP layer implement the writes; the lifecycle is their one caller.
IMPLEMENTS_WRITES = ("backend/",)


def _status_writes(path: Path) -> list[str]:
    """``x.create_run(...)`` and ``x.transition(...)`` calls in one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(PACKAGE)}:{node.lineno} {node.func.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("create_run", "transition")
    ]


def test_only_the_lifecycle_creates_runs_and_changes_their_status():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE))
        if "templates" in path.parts or rel.startswith(IMPLEMENTS_WRITES):
            continue
        found += _status_writes(path)
    lifecycle_module = "execution/lifecycle.py"
    assert found, "the lifecycle itself must be found"
    assert {f.split(":")[0] for f in found} == {lifecycle_module}, found


def test_a_run_ends_once(store):
    store.create_run(NewRun(id="r", action="train"))
    assert lifecycle.mark_started(store, "r")
    assert lifecycle.finish(store, "r", {"ok": True})
    assert not lifecycle.fail(store, "r", "too late")  # compare-and-set: the first end stays
    record = store.get_run("r")
    assert (record.status, record.result, record.error) == (RunStatus.SUCCEEDED, {"ok": True}, None)
    assert record.started_at <= record.finished_at


def test_claim_creates_a_missing_run_and_refuses_one_that_cannot_start(store):
    lifecycle.claim(store, "new", lambda: NewRun(id="new", action="train"))
    assert store.get_run("new").status is RunStatus.PENDING
    lifecycle.claim(store, "new", lambda: pytest.fail("an existing PENDING run is not created again"))
    lifecycle.stop(store, "new", "stopped before it started")
    with pytest.raises(RunConflict, match="run 'new' is STOPPED, not PENDING; it cannot start"):
        lifecycle.claim(store, "new", lambda: NewRun(id="new", action="train"))


@pytest.mark.parametrize(("asked", "status"), [(False, "FAILED"), (True, "STOPPED")], ids=["lost", "stop"])
def test_a_lost_run_fails_unless_a_stop_was_asked(store, asked, status):
    store.create_run(NewRun(id="gone", action="train"))
    if asked:
        lifecycle.request_stop(store, "gone")
    record = lifecycle.declare_lost(store, store.get_run("gone"), "worker died: process 7 is gone")
    assert (record.status, record.error) == (status, "worker died: process 7 is gone")


def test_a_failure_before_start_keeps_the_exit_code_for_the_cli(store):
    store.create_run(NewRun(id="bad", action="train", extra={"envs": {"A": "1"}}))
    assert lifecycle.fail_before_start(store, "bad", "params.epochs: not an integer", 2)
    record = store.get_run("bad")
    assert record.extra == {"envs": {"A": "1"}, "exit_code": 2}
    assert not lifecycle.fail_before_start(store, "bad", "again", 1)


def test_a_start_mark_that_arrives_before_its_run_is_stored_when_the_run_appears(store):
    """The Ray task race, on one machine: a worker's first flush reaches the store before the
    process that submitted it has created the run. The batch waits for the run, then lands."""
    from synapse_sdk.plugins.run.run import Run
    from synapse_sdk.plugins.run.sinks import BackendSink

    run = Run("early", [BackendSink(store)], flush_interval=0.01, start_mark_delay=0.0)
    run.mark_started(lifecycle.started_fields())
    run.log_message("before the record exists")
    time.sleep(0.1)  # the flusher has tried, and is retrying
    assert store.run_status("early") is None
    store.create_run(NewRun(id="early", action="train"))
    deadline = time.monotonic() + 5
    while store.run_status("early") is not RunStatus.RUNNING:
        assert time.monotonic() < deadline, "the start mark never landed"
        time.sleep(0.01)
    run.log_message("after")
    assert run.close() is None  # the start mark was stored, none is handed to the end
    lifecycle.finish(store, "early", {})
    record = store.get_run("early")
    assert record.status is RunStatus.SUCCEEDED and record.started_at is not None
    assert [e.message for e in store.get_logs("early")] == ["before the record exists", "after"]
    assert record.lost_events == 0 and run.lost == 0


def test_events_for_a_run_that_never_appears_are_counted_lost(store):
    from synapse_sdk.plugins.run.run import Run
    from synapse_sdk.plugins.run.sinks import BackendSink

    run = Run("never", [BackendSink(store, appears_within=0.2)], flush_interval=0.01)
    run.log_message("nobody will store this")
    run.set_progress(1, 2)
    started = time.monotonic()
    run.close()
    assert run.lost == 2
    assert time.monotonic() - started < 2
    assert store.run_status("never") is None


def test_a_short_programmatic_run_created_meanwhile_by_another_is_not_created_twice(store):
    from synapse_sdk.plugins.categories.neural_net import TrainAction

    class Quick(TrainAction):
        def start(self):
            return {"done": True}

    action = Quick(run_id="shared")
    barrier = threading.Barrier(2)

    def create_it() -> None:
        barrier.wait()
        with contextlib.suppress(RunConflict):
            store.create_run(NewRun(id="shared", action="train"))

    other = threading.Thread(target=create_it)
    other.start()
    barrier.wait()
    assert action.run_action() == {"done": True}
    other.join()
    assert store.get_run("shared").status is RunStatus.SUCCEEDED
