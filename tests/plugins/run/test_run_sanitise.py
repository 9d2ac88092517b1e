"""One bad event never costs its neighbours, and telemetry misuse never fails a healthy run.

Every event is made storable on its own before its batch is written (a real embedded store
here, whose NOT NULL columns and UTF-8 encoding refused whole batches before); misuse is clamped
or dropped with one warning per kind in production and raises in strict mode (the testing kit).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from synapse_sdk.backend.schemas import NewRun
from synapse_sdk.backend.store.runs import RunStore
from synapse_sdk.plugins.run import BackendSink, MemorySink, Run
from synapse_sdk.plugins.run.misuse import STRICT_ENV
from synapse_sdk.plugins.run.sanitise import MAX_DATA, MAX_TEXT, clean_data

NAN, INF = float("nan"), float("inf")


@pytest.fixture
def runs(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "synapse.db")


def stored_run(runs: RunStore, run_id: str = "r1", **options) -> Run:
    runs.create_run(NewRun(id=run_id, action="train"))
    return Run(run_id, [BackendSink(runs)], flush_interval=60, strict=False, **options)


def warnings_of(runs: RunStore, run_id: str = "r1") -> list[str]:
    return [e.message for e in runs.get_logs(run_id) if e.level == "WARNING" and e.message]


# -- one bad event never costs its neighbours ----------------------------------------------------


def test_nan_progress_does_not_lose_the_batch_it_travels_in(runs):
    run = stored_run(runs)
    for i in range(9):
        run.log_message(f"step {i}")
    run.set_progress(NAN, NAN)  # once failed the NOT NULL constraint and took the 9 logs with it
    run.set_progress(3, 10, "training")
    run.close()
    assert run.lost == 0
    messages = [e.message for e in runs.get_logs("r1")]
    assert messages[:9] == [f"step {i}" for i in range(9)]
    assert runs.get_run("r1").progress == {"training": {"current": 3, "total": 10, "percent": 30.0}}
    assert run.dropped == {"progress_not_finite": 1}


def test_a_lone_surrogate_is_replaced_and_its_neighbours_are_stored(runs):
    name = b"caf\xe9.jpg".decode("utf-8", "surrogateescape")  # a file name that is not UTF-8
    run = stored_run(runs)
    for i in range(3):
        run.log_message(f"before {i}")
    run.log_message(f"cannot read {name}")
    run.log("skipped", {"file": name, name: 1})
    run.set_metrics({f"size_{name}": 3}, f"files_{name}")
    run.set_progress(1, 2, f"scan_{name}")
    for i in range(3):
        run.log_message(f"after {i}")
    run.close()
    assert run.lost == 0
    logs = runs.get_logs("r1")
    assert [e.message for e in logs if e.message] == [
        "before 0", "before 1", "before 2", "cannot read caf\ufffd.jpg", "after 0", "after 1", "after 2",
    ]  # fmt: skip
    assert logs[4].data == {"file": "caf\ufffd.jpg", "caf\ufffd.jpg": 1}
    record = runs.get_run("r1")
    assert record.metrics == {"files_caf\ufffd.jpg": {"size_caf\ufffd.jpg": 3}}
    assert list(record.progress) == ["scan_caf\ufffd.jpg"]


class Broken:
    """An object whose ``__str__`` fails: still no reason to lose anything."""

    def __str__(self) -> str:
        raise RuntimeError("no text for you")


def test_data_that_is_not_json_is_stored_as_text(runs, tmp_path):
    cyclic: dict = {"name": "loop"}
    cyclic["self"] = cyclic
    run = stored_run(runs)
    run.log(
        "odd",
        {
            "nan": NAN, "inf": INF, "ninf": -INF, "path": tmp_path, "day": date(2024, 1, 2),
            "set": {1}, "tuple": (1, 2), (1, 2): "tuple key", 3: "int key", "bytes": b"\x00\xff",
            "decimal": Decimal("1.5"), "fraction": Fraction(1, 4), "cyclic": cyclic,
        },
    )  # fmt: skip
    run.log_message(Broken())  # type: ignore[arg-type]
    run.log("fine", {"ok": True})
    run.close()
    assert run.lost == 0
    odd, broken, fine = runs.get_logs("r1")
    data = odd.data
    assert (data["nan"], data["inf"], data["ninf"]) == (None, None, None)  # as the CLI prints them
    assert data["path"] == str(tmp_path)
    assert data["day"] == "2024-01-02"
    assert (data["set"], data["tuple"], data["(1, 2)"], data["3"]) == ([1], [1, 2], "tuple key", "int key")
    assert data["bytes"] == "b'\\x00\\xff'"
    assert (data["decimal"], data["fraction"]) == (1.5, 0.25)
    assert data["cyclic"]["name"] == "loop"
    assert "{...}" in str(data["cyclic"])  # the structure that holds itself ends as its text
    assert "Broken object at 0x" in broken.message
    assert fine.data == {"ok": True}


def test_oversized_values_are_cut_with_a_marker(runs):
    run = stored_run(runs)
    run.log_message("x" * (MAX_TEXT + 500))
    run.log("big", {"rows": list(range(MAX_DATA))})
    run.close()
    message, big = runs.get_logs("r1")
    assert message.message == "x" * MAX_TEXT + "…[truncated 500 chars]"
    rows = big.data["rows"]
    assert rows[-1].startswith("…[truncated ") and rows[-1].endswith(" items]")
    assert 10_000 < len(rows) < MAX_DATA


def test_clean_data_keeps_json_as_it_is():
    value = {"a": [1, 2.5, "x", None, True, {"b": []}]}
    assert clean_data(value) == value


# -- misuse in production: clamped or dropped, one warning per kind, counted ------------------------


def test_misused_progress_is_clamped_or_dropped_with_one_warning_per_kind(runs):
    run = stored_run(runs)
    run.set_progress(11, 10, "over")
    run.set_progress(12, 10, "over")  # the same kind again: counted, not logged again
    run.set_progress(-1, 10, "negative")
    run.set_progress(0, 0, "zero-total")
    run.set_progress(5, INF, "infinite")
    run.set_progress("5", 10, "text")  # type: ignore[arg-type]
    run.set_progress(Decimal(2), 4, "decimal")  # fine: any real number
    run.close()
    assert runs.get_run("r1").progress == {
        "over": {"current": 10, "total": 10, "percent": 100.0},
        "negative": {"current": 0, "total": 10, "percent": 0.0},
        "decimal": {"current": 2, "total": 4, "percent": 50.0},
    }
    assert run.dropped == {
        "progress_over_total": 2, "progress_negative": 1, "progress_bad_total": 1,
        "progress_not_finite": 1, "progress_not_number": 1,
    }  # fmt: skip
    warnings = warnings_of(runs)
    assert len(warnings) == 5
    assert warnings[0].startswith(
        "set_progress() needs 0 <= current <= total and total > 0, got set_progress(11, 10); clamped to 10"
    )
    assert "under synapse_sdk.plugins.testing this raises" in warnings[0]
    assert runs.get_logs("r1")[-1].event == "telemetry_dropped"
    assert runs.get_logs("r1")[-1].data == run.dropped


def test_an_unknown_level_is_recorded_as_a_warning_with_the_original_in_the_text(runs):
    run = stored_run(runs)
    run.log_message("disk almost full", "NOTICE")
    run.log_message("again", "NOTICE")
    run.log_message("no level", None)  # type: ignore[arg-type]
    run.close()
    entries = [(e.level, e.message) for e in runs.get_logs("r1") if e.message]
    assert entries[0][0] == "WARNING"
    assert entries[0][1].startswith(
        "unknown log level 'NOTICE'; use one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    )
    assert entries[1:] == [
        ("WARNING", "[NOTICE] disk almost full"),
        ("WARNING", "[NOTICE] again"),
        ("WARNING", "[None] no level"),
    ]
    assert run.dropped == {"log_level": 3}


def test_bad_metrics_are_dropped_and_the_good_ones_kept(runs):
    run = stored_run(runs)
    run.set_metrics({"loss": NAN, "acc": 0.9, "lr": INF, "note": "fast", 3: 1.0}, "training")
    run.set_metrics({"loss": 0.5}, "")
    run.set_metrics({}, "training")
    run.set_metrics({"loss": None}, "training")
    run.set_metrics([("loss", 1.0)], "training")  # type: ignore[arg-type]
    run.set_metrics({"epoch": Decimal(3), "done": True}, "progress")  # not a float: still a real number
    run.close()
    history = runs.metric_history("r1")
    assert [(row["category"], row["values"]) for row in history] == [
        ("training", {"acc": 0.9}), ("default", {"loss": 0.5}), ("progress", {"epoch": 3.0, "done": True}),
    ]  # fmt: skip
    assert run.dropped == {"metrics_value": 4 + 1 + 1 + 1, "metrics_category": 1}
    assert len(warnings_of(runs)) == 2
    assert "'loss': nan, 'lr': inf, 'note': 'fast', 3: 1.0" in warnings_of(runs)[0]


def test_a_bad_event_name_is_recorded_under_its_text(runs):
    run = stored_run(runs)
    run.log(42, {"x": 1})  # type: ignore[arg-type]
    run.log("", {"y": 2})
    run.close()
    assert [(e.event, e.data) for e in runs.get_logs("r1") if e.event][:2] == [
        ("42", {"x": 1}),
        ("event", {"y": 2}),
    ]
    assert run.dropped == {"log_event": 2}


def test_a_run_without_misuse_records_no_warning_and_no_summary(runs):
    run = stored_run(runs)
    run.set_progress(10, 10)
    run.set_metrics({"loss": 0.1, "epoch": 1, "ok": True}, "training")
    run.log_message("fine", "warn")
    run.close()
    assert run.dropped == {}
    assert [e.event for e in runs.get_logs("r1")] == [None]


# -- strict mode: the testing kit ---------------------------------------------------------------------


MISUSES = [
    (lambda run: run.set_progress(11, 10), ValueError, "0 <= current <= total"),
    (lambda run: run.set_progress(0, 0), ValueError, "0 <= current <= total"),
    (lambda run: run.set_progress(NAN, NAN), ValueError, "needs finite numbers"),
    (lambda run: run.set_progress("5", 10), TypeError, "needs numbers"),
    (lambda run: run.log_message("x", "NOTICE"), ValueError, "unknown log level 'NOTICE'"),
    (lambda run: run.set_metrics({"loss": NAN}, "training"), ValueError, "needs finite numbers"),
    (lambda run: run.set_metrics({}, "training"), ValueError, "non-empty mapping"),
    (lambda run: run.set_metrics({"loss": 1.0}, ""), ValueError, "needs a category name"),
    (lambda run: run.log("", {}), ValueError, "needs an event name"),
]
MISUSE_IDS = [
    "over-total", "zero-total", "nan", "text", "level", "nan-metric", "no-metrics", "no-category", "no-event",
]  # fmt: skip


@pytest.mark.parametrize(("call", "error", "match"), MISUSES, ids=MISUSE_IDS)
def test_strict_mode_raises_where_the_misuse_happens(call, error, match):
    run = Run("r1", [MemorySink()], strict=True)
    with pytest.raises(error, match=match):
        call(run)
    run.close()
    assert run.dropped == {}


@pytest.mark.parametrize(("call", "error", "match"), MISUSES, ids=MISUSE_IDS)
def test_production_never_raises(call, error, match):
    run = Run("r1", [MemorySink()], strict=False)
    call(run)
    run.close()
    assert sum(run.dropped.values()) == 1


def test_strict_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "1")
    assert Run("r1").strict
    monkeypatch.setenv(STRICT_ENV, "0")
    assert not Run("r1").strict
    monkeypatch.delenv(STRICT_ENV)
    assert not Run("r1").strict


MISUSING = """
from synapse_sdk.plugins.categories.neural_net import TrainAction

class Train(TrainAction):
    def start(self):
        self.run.log_message("epoch 1")
        self.run.set_progress(11, 10, "training")
        self.run.set_metrics({"loss": float("nan"), "acc": 0.5}, "training")
        self.run.log_message("done", "NOTICE")
        return {"ok": True}
"""
CONFIG = """
code: misuse
name: Misuse
version: 1.0.0
category: neural_net
actions:
  train: {entrypoint: plugin.train.Train, method: task}
"""


def test_the_testing_kit_raises_on_misuse_and_production_completes(make_plugin, store, monkeypatch):
    from synapse_sdk.plugins.categories.neural_net import TrainAction
    from synapse_sdk.plugins.testing import run_action

    folder = make_plugin(CONFIG, {"train.py": MISUSING})
    with pytest.raises(ValueError, match=r"got set_progress\(11, 10\)"):
        run_action(folder, "train")
    failed = run_action(folder, "train", check=False)
    assert failed.status == "FAILED"
    assert failed.error.startswith("ValueError: set_progress() needs 0 <= current <= total")

    monkeypatch.chdir(folder)  # production: the same action run programmatically, outside the kit
    result = TrainAction(params={}, plugin_config=folder).run_action()
    assert result == {"ok": True}
    record = store.list_runs()[0]
    assert record.status == "SUCCEEDED"
    assert record.progress["training"]["current"] == 10
    assert record.metrics == {"training": {"acc": 0.5}}
    logs = store.get_logs(record.id)
    assert logs[-1].event == "telemetry_dropped"
    assert logs[-1].data == {"progress_over_total": 1, "metrics_value": 1, "log_level": 1}
    assert "[NOTICE] done" in [e.message for e in logs]


# -- the run's end: error and result are stored whatever they hold ----------------------------------


SURROGATE_END = """
from pydantic import BaseModel
from synapse_sdk.plugins.categories.neural_net import TrainAction

class Params(BaseModel):
    fail: bool = False

class Train(TrainAction):
    params_model = Params

    def start(self):
        name = b"caf\\xe9.jpg".decode("utf-8", "surrogateescape")
        if self.params.get("fail"):
            raise FileNotFoundError(f"no such file: {name}")
        return {"file": name, "loss": float("nan")}
"""


def test_an_end_with_a_surrogate_or_nan_is_stored(make_plugin, store, monkeypatch):
    from synapse_sdk.plugins.categories.neural_net import TrainAction

    folder = make_plugin(CONFIG, {"train.py": SURROGATE_END})
    monkeypatch.chdir(folder)
    TrainAction(params={}, plugin_config=folder).run_action()
    with pytest.raises(FileNotFoundError):
        TrainAction(params={"fail": True}, plugin_config=folder).run_action()
    failed, succeeded = store.list_runs()
    assert succeeded.status == "SUCCEEDED"
    assert succeeded.result == {"file": "caf\ufffd.jpg", "loss": None}
    assert failed.status == "FAILED"
    assert failed.error == "FileNotFoundError: no such file: caf\ufffd.jpg"
