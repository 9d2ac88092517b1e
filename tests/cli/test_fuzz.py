"""Fuzzed params and CLI misuse through ``synapse plugin run --debug`` and the other commands.

Whatever hypothesis makes up, ``synapse`` exits 0 or 2, never with a traceback or an "internal
error", and every refusal is one ``Error:`` line. Bounded (``max_examples``, a deadline) to a few
seconds; ``-s`` prints how many inputs each test tried and how they ended.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.test_usage_errors import Outcome, invoke

FUZZ = settings(
    max_examples=150,
    deadline=5000,  # per input; the first of a process also pays for imports and the store's creation
    database=None,
    derandomize=True,  # the same inputs every run: a failure here is never a fluke of the draw
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TRAIN = """\
from pydantic import BaseModel
from synapse_sdk.plugins.categories.neural_net import TrainAction

class Optimizer(BaseModel):
    lr: float = 0.1
    name: str = "sgd"

class Params(BaseModel):
    epochs: int = 1
    ratio: float = 0.5
    tags: list[str] = []
    optimizer: Optimizer = Optimizer()
    extra: dict[str, int] = {}

class Train(TrainAction):
    params_model = Params

    def start(self):
        return {"params": self.params, "nan": float("nan"), "inf": [float("inf"), -float("inf")]}
"""
CONFIG = """\
code: fuzz
name: Fuzz
version: 0.1.0
category: neural_net
actions:
  train:
    entrypoint: plugin.train.Train
    method: task
"""


@pytest.fixture
def plugin(make_plugin, monkeypatch) -> Path:
    folder = make_plugin(CONFIG, {"train.py": TRAIN})
    monkeypatch.chdir(folder)
    return folder


def strict_json(text: str) -> Any:
    """Parse ``text`` refusing NaN and Infinity, as jq and every non-Python parser do."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


class Tally:
    """How the fuzzed inputs ended: succeeded, refused cleanly, or anything else (a failure)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: Counter[str] = Counter()
        self.bad: list[tuple[tuple[str, ...], Outcome]] = []

    def add(self, args: tuple[str, ...], outcome: Outcome) -> None:
        if outcome.has_traceback:
            kind = "traceback"
        elif outcome.code == 0:
            kind = "ok"
        elif outcome.is_clean_error and len(outcome.error_lines) == 1:
            kind = "clean"
        else:
            kind = "other"
        self.counts[kind] += 1
        if kind in ("traceback", "other"):
            self.bad.append((args, outcome))

    def check(self) -> None:
        total = sum(self.counts.values())
        c = self.counts
        print(
            f"\n{self.name}: {total} tried, {c['clean']} clean one-line errors, {c['ok']} ok, "
            f"{c['traceback']} tracebacks, {c['other']} other"
        )
        assert not self.bad, self.bad[:3]


# -- params ------------------------------------------------------------------------------------

KEYS = st.sampled_from(["epochs", "epoch", "ratio", "tags", "optimizer", "lr", "extra", "name", "", "a\nb"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(200, 1200).map(lambda n: int("9" * n)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def to_json_text(value: Any) -> str:
    return json.dumps(value, allow_nan=True)  # NaN, Infinity: what a careless caller sends


PARAMS_TEXT = st.one_of(
    st.dictionaries(KEYS, VALUES, max_size=5).map(to_json_text),
    VALUES.map(to_json_text),
    st.text(max_size=40),
    st.integers(1, 3000).map(lambda n: '{"epochs": ' + "[" * n + "]" * n + "}"),
    st.integers(1, 6000).map(lambda n: '{"epochs": ' + "7" * n + "}"),
    st.sampled_from(
        ['{"tags": ["\\ud800"]}', '{"\\udfff": 1}', '{"epochs": 1, "epochs": 2}', '{"ratio": -Infinity}']
    ),
)


def test_fuzzed_params_through_plugin_run_debug(plugin, capsys):
    tally = Tally("params through 'plugin run train PARAMS --debug'")

    @FUZZ
    @given(params=PARAMS_TEXT)
    def run(params: str) -> None:
        args = ("plugin", "run", "train", params, "--debug")
        outcome = invoke(capsys, *args)
        tally.add(args, outcome)
        if outcome.code == 0:
            strict_json(outcome.out)

    invoke(capsys, "plugin", "run", "train", "{}", "--debug")  # imports, the store: once
    run()
    tally.check()


# -- CLI misuse --------------------------------------------------------------------------------

WORDS = st.sampled_from([
    "plugin", "run", "check", "list", "releases", "job", "get", "logs", "stop", "prune", "env", "train",
    "--limit", "-n", "--status", "--json", "--grace", "--older-than", "--dry-run", "--all", "--follow",
    "--path", "--plugin", "--debug", "--job-id", "--env", "--port", "--num-cpus", "--host", "--help", "-",
    "--", "0", "-1", "70000", "nan", "inf", "abc", "{}", '{"epoch": 3}', "A=1", "=", "fuzz@9.9.9", "j1\n",
])  # fmt: skip
GROUPS = [
    *(["plugin", c] for c in ("check", "list", "releases")),
    *(["job", c] for c in ("list", "get", "logs", "stop", "prune")),
    *(["env", c] for c in ("list", "prune")),
    ["plugin", "run", "train"], ["job"], ["plugin"], ["env"], [],
]  # fmt: skip
ARGV = st.tuples(st.sampled_from(GROUPS), st.lists(WORDS | st.text(max_size=6), max_size=5))


def test_fuzzed_command_lines_exit_0_or_2(plugin, capsys):
    tally = Tally("command lines")

    @FUZZ
    @given(argv=ARGV)
    def run(argv: tuple[list[str], list[str]]) -> None:
        head, rest = argv
        args = (*head, *rest)
        if head[:2] == ["plugin", "run"] and "--debug" not in rest:
            args = (*args, "--debug")  # never start a background job or a worker from the fuzzer
        if "--follow" in args:
            return  # would wait for a run that never ends
        tally.add(args, invoke(capsys, *args))

    invoke(capsys, "job", "list")  # imports typer and the store: once
    run()
    tally.check()


# -- strict JSON out ---------------------------------------------------------------------------


def test_nan_and_infinity_are_never_printed_as_json(plugin, capsys):
    ran = invoke(capsys, "plugin", "run", "train", "{}", "--debug")
    assert ran.code == 0, ran
    result = strict_json(ran.out)
    assert (result["nan"], result["inf"]) == (None, [None, None])
    listed = strict_json(invoke(capsys, "job", "list", "--json").out)
    (run_id,) = [r["id"] for r in listed]
    record = strict_json(invoke(capsys, "job", "get", run_id, "--json").out)
    assert record["status"] == "SUCCEEDED"
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in record["result"].get("inf") or [])
    shown = invoke(capsys, "job", "get", run_id)
    assert "NaN" not in shown.out and "Infinity" not in shown.out
