"""Run: buffered, coalesced, validated, never failing the action because of a sink."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest

from synapse_sdk.backend.schemas import EventBatch
from synapse_sdk.plugins.run import MemorySink, Run


class BrokenSink:
    """A sink whose storage is down: every write raises."""

    def write(self, run_id: str, batch: EventBatch) -> None:
        raise OSError("disk full")


def test_every_log_reaches_the_sink_by_close():
    sink = MemorySink()
    run = Run("r1", [sink], flush_interval=10)
    for i in range(1000):
        run.log_message(f"line {i}")
    run.log("model_checkpoint", {"epoch": 10, "accuracy": 0.95})
    run.close()
    assert [row[2] for row in sink.logs[:3]] == ["line 0", "line 1", "line 2"]
    assert sink.logs[-1][3:] == ("model_checkpoint", {"epoch": 10, "accuracy": 0.95})
    assert len(sink.logs) == 1001


def test_progress_is_coalesced_to_the_latest_value_per_category():
    sink = MemorySink()
    run = Run("r1", [sink], flush_interval=10)
    for i in range(1, 101):
        run.set_progress(i, 100, "training")
    run.set_progress(3, 10)
    run.close()
    progress = {k: v[:2] for b in sink.batches for k, v in b.progress.items()}
    assert progress == {"training": (100, 100), "default": (3, 10)}


def test_every_metrics_call_is_kept_for_charts():
    sink = MemorySink()
    run = Run("r1", [sink], flush_interval=10)
    for epoch in range(5):
        run.set_metrics({"loss": 1 / (epoch + 1)}, "training")
    run.close()
    rows = [m for b in sink.batches for m in b.metrics]
    assert [r[2]["loss"] for r in rows] == [1.0, 0.5, 1 / 3, 0.25, 0.2]


@pytest.mark.parametrize(
    ("current", "total"), [(-1, 10), (11, 10), (0, 0), (1, -5)], ids=["negative", "over", "zero", "neg-total"]
)
def test_invalid_progress_is_a_clear_error_in_strict_mode(current, total):
    run = Run("r1", strict=True)  # what the testing kit sets; production clamps: test_run_sanitise.py
    with pytest.raises(ValueError, match="0 <= current <= total and total > 0"):
        run.set_progress(current, total)


def test_progress_needs_numbers_in_strict_mode():
    with pytest.raises(TypeError, match="needs numbers"):
        Run("r1", strict=True).set_progress("1", 10)


def test_unknown_log_level_is_refused_in_strict_mode_and_aliases_are_accepted():
    sink = MemorySink()
    run = Run("r1", [sink], strict=True)
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        run.log_message("x", "LOUD")
    run.log_message("careful", "warn")
    run.log_message("low", "debug")
    run.log_message("loud", "Critical")
    run.close()
    assert [row[1] for row in sink.logs] == ["WARNING", "DEBUG", "CRITICAL"]


def test_a_failing_sink_never_fails_the_action_and_is_counted():
    good = MemorySink()
    run = Run("r1", [BrokenSink(), good], flush_interval=10)
    for i in range(10):
        run.log_message(f"{i}")
    run.set_progress(1, 2)
    run.close()
    assert run.lost == 11
    assert len(good.logs) == 10


def test_secret_values_are_masked_in_logs():
    sink = MemorySink()
    run = Run("r1", [sink], secrets=["s3cr3t-token"])
    run.log_message("connecting with s3cr3t-token")
    run.log("auth", {"header": "Bearer s3cr3t-token"})
    run.close()
    assert sink.logs[0][2] == "connecting with ***"
    assert sink.logs[1][4] == {"header": "Bearer ***"}


def test_secrets_given_as_a_function_are_found_once_and_only_when_needed():
    calls = []

    def find() -> list[str]:
        calls.append(1)
        return ["s3cr3t-token", ""]  # an empty value would mask between every character

    silent = Run("r1", [MemorySink()], secrets=find)
    silent.close()
    assert calls == []

    sink = MemorySink()
    run = Run("r2", [sink], secrets=find)
    run.log_message("using s3cr3t-token")
    run.set_progress(1, 2, "s3cr3t-token")
    run.flush()
    run.log_message("again s3cr3t-token")
    run.close()
    assert [row[2] for row in sink.logs] == ["using ***", "again ***"]
    assert list(sink.batches[0].progress) == ["***"]
    assert calls == [1]


def test_every_text_and_value_of_an_event_is_masked():
    sink = MemorySink()
    run = Run("r1", [sink], secrets=["hunter22", "918273", "q7z"])
    run.log_message("pin q7z, login hunter22, db postgres://u:pw@h/db, epoch 7/10")
    run.log("hunter22", {"hunter22": [918273, "q7z", 7], "ok": True})
    run.set_metrics({"loss_hunter22": 0.5, "pin": 918273, "epoch": 7}, "cat_hunter22")
    run.set_progress(1, 2, "p_hunter22")
    run.close()
    (_, _, message, _, _), (_, _, _, event, data) = sink.logs
    assert message == "pin ***, login ***, db postgres://u:***@h/db, epoch 7/10"
    assert (event, data) == ("***", {"***": ["***", "***", 7], "ok": True})
    metrics = [row for b in sink.batches for row in b.metrics]
    assert [(category, values) for _, category, values in metrics] == [
        ("cat_***", {"loss_***": 0.5, "pin": "***", "epoch": 7})
    ]
    assert list(sink.batches[0].progress) == ["p_***"]


def test_url_passwords_are_masked_in_a_run_without_secrets():
    sink = MemorySink()
    run = Run("r1", [sink])
    run.log_message("fetching https://bob:pa55@example.com/x")
    run.close()
    assert sink.logs[0][2] == "fetching https://bob:***@example.com/x"


def test_the_flusher_sends_while_the_action_runs():
    flushed = threading.Event()

    class Watch(MemorySink):
        def write(self, run_id, batch):
            super().write(run_id, batch)
            flushed.set()

    run = Run("r1", [Watch()], flush_interval=0.05)
    run.log_message("hello")
    assert flushed.wait(5), "nothing was flushed while the run was open"
    run.close()


def test_close_is_idempotent():
    sink = MemorySink()
    run = Run("r1", [sink])
    run.log_message("once")
    run.close()
    run.close()
    assert len(sink.logs) == 1


def test_open_runs_share_one_flusher_thread():
    sinks = [MemorySink() for _ in range(20)]
    runs = [Run(f"r{i}", [sink], flush_interval=0.02) for i, sink in enumerate(sinks)]
    for run in runs:
        run.log_message("hello")
    flushers = [t for t in threading.enumerate() if t.name == "synapse-run-flusher"]
    assert len(flushers) == 1
    deadline = time.monotonic() + 5
    while not all(sink.logs for sink in sinks) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(len(sink.logs) == 1 for sink in sinks), "every open run is flushed on its interval"
    for run in runs:
        run.close()


def test_a_start_mark_goes_out_by_itself_or_comes_back_from_close():
    sink = MemorySink()
    quick = Run("quick", [sink], flush_interval=60, start_mark_delay=60)
    quick.mark_started({"pid": 1})
    assert quick.close() == {"pid": 1}  # ended before the mark was sent: the final write carries it
    assert sink.batches == []

    slow = Run("slow", [sink], start_mark_delay=0.01)
    slow.mark_started({"pid": 2})
    deadline = time.monotonic() + 5
    while not sink.batches and time.monotonic() < deadline:
        time.sleep(0.005)
    assert sink.batches[0].started == {"pid": 2}  # sent beside the action, soon after it began
    assert slow.close() is None


def test_a_forked_child_flushes_its_own_runs(tmp_path):
    from synapse_sdk.backend.schemas import NewRun
    from synapse_sdk.backend.store.runs import RunStore
    from synapse_sdk.plugins.run import BackendSink

    Run("parent", [MemorySink()]).log_message("starts the flusher thread in the parent")
    db = tmp_path / "runs.db"

    def child() -> None:
        store = RunStore(db)
        store.create_run(NewRun(id="child", action="a"))
        run = Run("child", [BackendSink(store)], flush_interval=0.02)
        run.log_message("from the child")
        deadline = time.monotonic() + 5
        while store.count_logs("child") == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        os._exit(0 if store.count_logs("child") == 1 else 1)

    proc = multiprocessing.get_context("fork").Process(target=child)
    proc.start()
    proc.join(10)
    assert proc.exitcode == 0, "the child's run was not flushed before close()"


def test_a_start_mark_the_store_refused_is_sent_again_or_handed_back():
    good = MemorySink()
    run = Run("r1", [BrokenSink(), good], flush_interval=10)
    run.mark_started({"pid": 7})
    run.log_message("hello")
    run.flush()
    assert good.batches[0].started == {"pid": 7}  # observers still see it
    run.log_message("again")
    assert run.close() == {"pid": 7}  # never stored: the final write must carry it
    assert [row[2] for row in good.logs] == ["hello", "again"]
