"""Fuzzed config.yaml files through ``synapse plugin check`` and ``synapse plugin run --debug``.

Configs are made three ways: mappings of known and unknown keys with odd values (dumped as YAML,
sometimes with anchors and aliases), the valid config with bytes spliced in, and raw text. Every
one ends in exit 0 or 2 with only ``Error:`` lines: no traceback, no "internal error". Bounded to
a few seconds; ``-s`` prints the counts.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synapse_sdk.errors import ConfigError
from synapse_sdk.plugins.config import MAX_PROBLEMS, PluginConfig
from synapse_sdk.plugins.loader import check_plugin
from tests.cli.test_usage_errors import Outcome, invoke

#: Some inputs are large on purpose (30,000-deep nesting, 6,000-digit integers); hypothesis warns
#: when it prints such an input, which is expected here and not worth failing for.
large_inputs = pytest.mark.filterwarnings(
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)
FUZZ = settings(
    max_examples=120,
    deadline=5000,  # per input; the first of a process also pays for imports and the store's creation
    database=None,
    derandomize=True,  # the same inputs every run: a failure here is never a fluke of the draw
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

VALID = """\
code: fuzz
name: Fuzz
version: 0.1.0
category: neural_net
actions:
  train:
    entrypoint: plugin.train.Train
    method: task
"""
MODULES = {
    "train.py": """\
from synapse_sdk.plugins.categories.neural_net import TrainAction

class Train(TrainAction):
    def start(self):
        return {"ok": True}

class NoStart(TrainAction):
    pass

class BadModel(TrainAction):
    params_model = 42

    def start(self):
        return None

class Explodes(TrainAction):
    def __init__(self, *args, **kwargs):
        raise RuntimeError("boom")

    def start(self):
        return None

NOT_A_CLASS = 42
""",
    "exits.py": "import sys\nsys.exit(3)\n",
    "interrupts.py": "raise KeyboardInterrupt\n",
    "recurses.py": "def f():\n    return f()\nf()\n",
}
ENTRYPOINTS = st.sampled_from([
    "plugin.train.Train", "plugin.train.NoStart", "plugin.train.BadModel", "plugin.train.Explodes",
    "plugin.train.NOT_A_CLASS", "plugin.train.Missing", "plugin.nowhere.X", "plugin.exits.X",
    "plugin.interrupts.X", "plugin.recurses.X", "synapse_sdk.plugins.categories.neural_net.TrainAction",
    "synapse_sdk.plugins.categories.base.Action", "synapse_sdk.plugins.categories.export.BaseExporter",
    "json.JSONDecoder", "os.path.join", "plugin", "plugin.train.Train\n", "",
])  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(300, 4000).map(lambda n: int("9" * n)),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["neural_net", "export", "upload", "job", "task", "restapi", "jobs", "pip", "uv", "1.0.0",
                     "1.0.0\n", "my-plugin\n", "2024-13-45"]),
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
ACTION = st.fixed_dictionaries(
    {"entrypoint": ENTRYPOINTS},
    optional={"method": SCALARS, "num_cpus": SCALARS, "num_replicas": SCALARS, "autoscaling": VALUES,
              "entrypont": VALUES, "description": VALUES},
)  # fmt: skip
ACTION_NAMES = st.sampled_from(["train", "test", "custom", "my-action", "1bad", "x y"])
ACTIONS = st.dictionaries(ACTION_NAMES, ACTION | VALUES, max_size=3)
MAPPINGS = st.fixed_dictionaries(
    {},
    optional={"code": SCALARS, "name": SCALARS, "version": SCALARS, "category": SCALARS, "actions": ACTIONS,
              "package_manager": SCALARS, "package_manager_options": VALUES, "description": VALUES,
              "unknown": VALUES, "catgory": VALUES},
)  # fmt: skip


def dump(data: Any, aliases: bool) -> str:
    if not aliases:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    shared = {"entrypoint": "plugin.train.Train", "method": "task"}
    return yaml.safe_dump({"base": shared, **data, "again": shared, "more": [shared] * 3}, sort_keys=False)


def alias_bomb(levels: int) -> str:
    """``levels`` anchors, each a list of eight aliases of the one before: 9 * 8**levels values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 8)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def splice(position: int, junk: bytes) -> bytes:
    raw = VALID.encode()
    position %= len(raw) + 1
    return raw[:position] + junk + raw[position:]


CONFIG_BYTES = st.one_of(
    st.builds(lambda d, a: dump({**yaml.safe_load(VALID), **d}, a).encode(), MAPPINGS, st.booleans()),
    st.builds(lambda d, a: dump(d, a).encode(), MAPPINGS, st.booleans()),
    st.builds(splice, st.integers(0, len(VALID)), st.binary(max_size=8)),
    st.builds(splice, st.integers(0, len(VALID)), st.sampled_from(
        [b"\n&a [*a]\n", b"\ncode: again\n", b"\n\t", b"\xfc", b"{{{{", b"!!python/object:os.system\n", b"- ",
         b"\nnum_cpus: " + b"9" * 6000 + b"\n", b"\nwhen: 2024-13-45\n", b"\n<<: *nowhere\n"])),
    st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.integers(1, 30_000).map(lambda n: (VALID + "description: " + "[" * n + "]" * n + "\n").encode()),
    st.integers(1, 9).map(lambda n: (alias_bomb(n) + VALID).encode()),
)  # fmt: skip


@pytest.fixture
def folder(make_plugin) -> Path:
    return make_plugin(VALID, MODULES)


class Tally:
    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: Counter[str] = Counter()
        self.bad: list[tuple[bytes, Outcome]] = []

    def add(self, raw: bytes, outcome: Outcome) -> None:
        if outcome.has_traceback:
            kind = "traceback"
        elif outcome.code == 0:
            kind = "ok"
        elif outcome.is_clean_error and len(outcome.error_lines) <= MAX_PROBLEMS + 1:
            kind = "clean"
        else:
            kind = "other"
        self.counts[kind] += 1
        if kind in ("traceback", "other"):
            self.bad.append((raw[:200], outcome))

    def check(self) -> None:
        total = sum(self.counts.values())
        print(
            f"\n{self.name}: {total} tried, {self.counts['clean']} clean errors (one line per problem), "
            f"{self.counts['ok']} ok, {self.counts['traceback']} tracebacks, {self.counts['other']} other"
        )
        assert not self.bad, self.bad[:3]


@large_inputs
def test_fuzzed_configs_through_check_and_run(folder, capsys):
    check, run = Tally("configs through 'plugin check'"), Tally("configs through 'plugin run train --debug'")

    @FUZZ
    @given(raw=CONFIG_BYTES)
    def both(raw: bytes) -> None:
        (folder / "config.yaml").write_bytes(raw)
        check.add(raw, invoke(capsys, "plugin", "check", "--path", str(folder)))
        run.add(raw, invoke(capsys, "plugin", "run", "train", "--debug", "--path", str(folder)))

    invoke(capsys, "plugin", "run", "train", "--debug", "--path", str(folder))  # imports, the store: once
    both()
    check.check()
    run.check()


@large_inputs
def test_fuzzed_configs_through_the_library(folder):
    """``check_plugin`` never raises and ``PluginConfig.load`` raises only ``ConfigError``."""
    counts: Counter[str] = Counter()

    @FUZZ
    @given(raw=CONFIG_BYTES)
    def load(raw: bytes) -> None:
        (folder / "config.yaml").write_bytes(raw)
        result = check_plugin(folder)
        assert len(result.problems) <= MAX_PROBLEMS + 1
        assert all("\n" not in problem for problem in result.problems)
        try:
            PluginConfig.load(folder)
            counts["valid"] += 1
        except ConfigError:
            counts["refused"] += 1

    load()
    print(f"\nconfigs through the library: {sum(counts.values())} tried, {counts['refused']} refused, "
          f"{counts['valid']} valid, 0 other exceptions")  # fmt: skip
