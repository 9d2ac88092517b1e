"""CLI misuse: one ``Error:`` line, exit 2, never a traceback or "internal error"; bare groups show help.

Commands run in this process through ``synapse_sdk.cli.main`` (the console script's own entry
point); one subprocess run proves the installed script behaves the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from synapse_sdk.cli import main
from tests.conftest import run_cli


@dataclass(frozen=True)
class Outcome:
    """What one ``synapse`` call did: exit code, output, and an exception that escaped ``main``."""

    code: int
    out: str
    err: str
    escaped: BaseException | None = None

    @property
    def error_lines(self) -> list[str]:
        return self.err.splitlines()

    @property
    def is_clean_error(self) -> bool:
        """Exit 2 with stderr made only of ``Error:`` lines, none a traceback or an internal error."""
        lines = self.error_lines
        return (
            self.code == 2
            and self.escaped is None
            and bool(lines)
            and all(line.startswith("Error: ") and len(line) < 1200 for line in lines)
            and not self.has_traceback
        )

    @property
    def has_traceback(self) -> bool:
        text = self.out + self.err
        return self.escaped is not None or "Traceback" in text or "internal error" in text


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    """Run ``synapse ARGS`` in this process and capture what it printed and how it exited."""
    capsys.readouterr()
    escaped: BaseException | None = None
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # noqa: BLE001 - the point is to see anything main() lets out
        escaped, code = exc, -1
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err, escaped)


def one_error(outcome: Outcome) -> str:
    """The single ``Error:`` line of a clean usage error."""
    assert outcome.is_clean_error, outcome
    assert len(outcome.error_lines) == 1, outcome.err
    return outcome.error_lines[0]


TRAIN = """\
from pydantic import BaseModel, ConfigDict, model_validator
from synapse_sdk.plugins.categories.neural_net import TrainAction

class Optimizer(BaseModel):
    lr: float = 0.1

class Params(BaseModel):
    epochs: int = 20
    optimizer: Optimizer = Optimizer()

class Open(BaseModel):
    model_config = ConfigDict(extra="allow")
    epochs: int = 20

class Train(TrainAction):
    params_model = Params

    def start(self):
        return {"epochs": self.params["epochs"], "loss": float("nan"), "best": float("inf")}

class OpenTrain(TrainAction):
    params_model = Open

    def start(self):
        return self.params

class Renames(BaseModel):
    epochs: int = 20

    @model_validator(mode="before")
    @classmethod
    def _old_name(cls, data):
        if isinstance(data, dict) and "epoch" in data:
            data = {"epochs": data["epoch"], **{k: v for k, v in data.items() if k != "epoch"}}
        return data

class RenamingTrain(TrainAction):
    params_model = Renames

    def start(self):
        return self.params
"""
CONFIG = """\
code: usage
name: Usage
version: 0.1.0
category: neural_net
actions:
  train:
    entrypoint: plugin.train.Train
    method: {method}
  open:
    entrypoint: plugin.train.OpenTrain
    method: task
  renaming:
    entrypoint: plugin.train.RenamingTrain
    method: task
"""


@pytest.fixture
def plugin(make_plugin, monkeypatch) -> Path:
    folder = make_plugin(CONFIG.format(method="task"), {"train.py": TRAIN})
    monkeypatch.chdir(folder)
    return folder


MISUSE = {
    "unknown-option": (["--bogus"], "No such option: --bogus"),
    "unknown-command": (["bogus"], "No such command 'bogus'"),
    "unknown-subcommand": (["plugin", "lst"], "Did you mean 'list'?"),
    "extra-argument": (["job", "list", "extra"], "unexpected extra argument"),
    "missing-argument": (["job", "get"], "Missing argument"),
    "missing-option-value": (["job", "list", "--limit"], "requires an argument"),
    "not-an-integer": (["job", "list", "--limit", "abc"], "Invalid value for '--limit'"),
    "limit-0": (["job", "list", "--limit", "0"], "--limit"),
    "limit-negative": (["job", "list", "-n", "-1"], "--limit"),
    "limit-huge": (["job", "list", "--limit", "9" * 30], "--limit"),
    "port-too-big": (["plugin", "run", "serve", "--port", "70000"], "Invalid value for '--port'"),
    "backend-port": (["backend", "serve", "--port", "70000"], "Invalid value for '--port'"),
    "run-unknown-option": (["plugin", "run", "train", "--bogus"], "No such option: --bogus"),
    "run-three-arguments": (["plugin", "run", "a", "b", "c"], "unexpected extra argument"),
    "grace-negative": (["job", "stop", "x", "--grace", "-5"], "Invalid value for '--grace'"),
    "grace-nan": (["job", "stop", "x", "--grace", "nan"], "Invalid value for '--grace'"),
    "older-than-negative": (["job", "prune", "--older-than", "-1"], "Invalid value for '--older-than'"),
    "env-older-than-negative": (["env", "prune", "--older-than", "-1"], "Invalid value for '--older-than'"),
    "env-prune-no-flag": (["env", "prune"], "--all, or --older-than DAYS"),
    "env-prune-both": (["env", "prune", "--all", "--older-than", "3"], "pass one"),
    "data-unknown-option": (["data", "--bogus"], "No such option: --bogus"),
    "not-utf8": (["job", "get", "\udcff"], "is not UTF-8 text"),
    "job-id-and-debug": (["plugin", "run", "train", "--job-id", "j1", "--debug"], "--job-id and --debug"),
    "job-id-and-debug-typer": (
        ["plugin", "run", "train", "--job-id", "j1", "--debug", "--port", "9000"],
        "--job-id and --debug",
    ),
    "job-id-newline": (["plugin", "run", "train", "--job-id", "j1\n"], "use 1-128 letters"),
    "job-id-empty": (["plugin", "run", "train", "--job-id", ""], "--job-id ''"),
}


@pytest.mark.parametrize(("args", "expected"), list(MISUSE.values()), ids=list(MISUSE))
def test_misuse_is_one_line_and_exit_2(plugin, capsys, store, args, expected):
    line = one_error(invoke(capsys, *args))
    assert expected in line
    assert store.list_runs() == []


def test_usage_errors_point_at_the_commands_help(capsys):
    assert one_error(invoke(capsys, "job", "list", "extra")).endswith("(see 'synapse job list --help')")


@pytest.mark.parametrize("args", [[], ["job"], ["plugin"], ["env"], ["--help"], ["job", "list", "--help"]],
                         ids=["bare", "job", "plugin", "env", "help", "command-help"])  # fmt: skip
def test_a_bare_group_shows_its_help_and_exits_0(capsys, args):
    outcome = invoke(capsys, *args)
    assert (outcome.code, outcome.escaped, outcome.err) == (0, None, "")
    assert "Usage: synapse" in outcome.out


def test_the_console_script_agrees(tmp_path):
    bare = run_cli(cwd=tmp_path)
    assert bare.returncode == 0 and "Usage: synapse" in bare.stdout and "plugin" in bare.stdout
    misuse = run_cli("job", "list", "--limit", "abc", cwd=tmp_path)
    assert misuse.returncode == 2
    assert misuse.stderr.splitlines() == [
        "Error: Invalid value for '--limit' / '-n': Input should be a valid integer, unable to parse string "
        "as an integer (see 'synapse job list --help')"
    ]


def test_env_prune_with_all_or_an_age_still_works(capsys):
    for args in (["env", "prune", "--all"], ["env", "prune", "--older-than", "0"]):
        outcome = invoke(capsys, *args)
        assert outcome.code == 0, outcome
        assert "environment folder(s) removed" in outcome.err


# -- params ------------------------------------------------------------------------------------

BAD_PARAMS = {
    "unknown-key": (
        '{"epoch": 3}',
        "params.epoch: unknown key (did you mean 'epochs'?); allowed keys: epochs",
    ),
    "unknown-nested-key": (
        '{"optimizer": {"lrr": 1}}',
        "params.optimizer.lrr: unknown key (did you mean 'lr'?)",
    ),
    "unknown-and-invalid": ('{"epoch": 3, "epochs": "x"}', "params.epoch: unknown key"),
    "huge-int": ('{"epochs": ' + "9" * 5000 + "}", "an integer of 5,000 digits"),
    "deep": ('{"a": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested more than 64 levels deep"),
    "surrogate": ('{"name": "\\ud800"}', "half of a UTF-16 surrogate pair"),
    "nan": ('{"epochs": NaN}', "NaN is not a JSON number"),
    "infinity": ('{"epochs": 1e999}', "too large for a float"),
    "duplicate-key": ('{"epochs": 1, "epochs": 2}', "key 'epochs' is given twice"),
    "newline-in-key": ('{"a\\nb": 1}', "params['a\\nb']: unknown key"),
}


@pytest.mark.parametrize(("params", "expected"), list(BAD_PARAMS.values()), ids=list(BAD_PARAMS))
def test_bad_params_are_one_line_exit_2_and_no_run(plugin, capsys, store, params, expected):
    line = one_error(invoke(capsys, "plugin", "run", "train", params, "--debug"))
    assert expected in line
    assert store.list_runs() == []


def test_an_unknown_key_and_a_bad_value_are_reported_together(plugin, capsys):
    line = one_error(invoke(capsys, "plugin", "run", "train", '{"epoch": 3, "epochs": "x"}', "--debug"))
    assert "params.epoch: unknown key" in line and "params.epochs: input should be a valid integer" in line


def test_a_model_reading_its_raw_input_decides_for_itself(plugin, capsys):
    outcome = invoke(capsys, "plugin", "run", "renaming", '{"epoch": 3}')
    assert outcome.code == 0, outcome
    assert json.loads(outcome.out) == {"epochs": 3}


def test_a_model_that_allows_extra_keys_keeps_them(plugin, capsys):
    outcome = invoke(capsys, "plugin", "run", "open", '{"epochs": 2, "extra": "kept"}')
    assert outcome.code == 0, outcome
    assert json.loads(outcome.out) == {"epochs": 2, "extra": "kept"}


@pytest.mark.parametrize(
    "how", [["--debug"], [], ["--job-id", "bad-params-job"]], ids=["debug", "job", "background"]
)
def test_bad_params_exit_2_however_the_action_runs(make_plugin, monkeypatch, capsys, store, how):
    monkeypatch.chdir(make_plugin(CONFIG.format(method="job"), {"train.py": TRAIN}))
    line = one_error(invoke(capsys, "plugin", "run", "train", '{"epoch": 3}', *how))
    assert "params.epoch: unknown key (did you mean 'epochs'?)" in line
    assert store.list_runs() == []


def test_a_job_refused_by_its_worker_exits_2_and_job_get_says_why(plugin, capsys, store):
    from synapse_sdk.backend.schemas import RunRecord
    from synapse_sdk.errors import UsageError
    from synapse_sdk.execution.follow import result_of
    from synapse_sdk.execution.runner import prepare

    prepared = prepare("train", {"epochs": 1}, path=plugin, run_id="refused-1")
    store.create_run(prepared.new_run(is_job=True))
    from synapse_sdk.execution.lifecycle import fail_before_start

    fail_before_start(store, "refused-1", "invalid params for action 'train': params.epoch: unknown key", 2)
    record: RunRecord = store.get_run("refused-1")
    with pytest.raises(UsageError, match="params.epoch: unknown key"):
        result_of(record)
    shown = invoke(capsys, "job", "get", "refused-1")
    assert shown.code == 0, shown
    assert "exit_code    2 (bad input: the action never started)" in shown.out
    as_json = json.loads(invoke(capsys, "job", "get", "refused-1", "--json").out)
    assert (as_json["status"], as_json["exit_code"]) == ("FAILED", 2)


def test_a_missing_plugin_folder_is_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert "no config.yaml here" in one_error(invoke(capsys, "plugin", "run", "train", "--debug"))
