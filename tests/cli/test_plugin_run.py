"""`synapse plugin run` and `synapse plugin check` through the real console script."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli

FAILING = """\
from synapse_sdk.plugins.categories.neural_net import TrainAction

class Train(TrainAction):
    def start(self):
        self.run.log_message("step 1 done")
        raise ValueError("dataset is empty")
"""
FAILING_CONFIG = """\
code: failing
name: Failing
version: 0.1.0
category: neural_net
actions:
  train:
    entrypoint: plugin.train.Train
    method: task
"""


def test_run_prints_the_result_and_records_the_run(demo_plugin, store):
    proc = run_cli("plugin", "run", "train", '{"dataset_path": "/data/images", "epochs": 3}', "--debug",
                   cwd=demo_plugin)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"status": "success", "final_loss": 0.5774}
    assert "[INFO] Starting training..." in proc.stderr
    assert "[progress] training: 3/3 (100%)" in proc.stderr
    (record,) = store.list_runs()
    assert record.status == "SUCCEEDED"
    assert (record.plugin, record.action, record.method) == ("demo-train@1.0.0", "train", "job")
    assert record.metrics["training"]["loss"] == 0.5774


def test_path_option_runs_a_plugin_from_elsewhere(demo_plugin, tmp_path):
    proc = run_cli("plugin", "run", "train", '{"dataset_path": "d", "epochs": 1}', "--path", str(demo_plugin),
                   cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_a_failing_action_exits_1_and_keeps_its_logs(make_plugin, store):
    folder = make_plugin(FAILING_CONFIG, {"train.py": FAILING})
    proc = run_cli("plugin", "run", "train", cwd=folder)
    assert proc.returncode == 1
    assert "Error: action 'train' failed: ValueError: dataset is empty" in proc.stderr
    assert "Traceback" not in proc.stderr
    (record,) = store.list_runs()
    assert record.status == "FAILED"
    assert record.error == "ValueError: dataset is empty"
    assert [e.message for e in store.get_logs(record.id)][0] == "step 1 done"


def test_synapse_debug_shows_the_traceback(make_plugin):
    folder = make_plugin(FAILING_CONFIG, {"train.py": FAILING})
    proc = run_cli("plugin", "run", "train", cwd=folder, env={"SYNAPSE_DEBUG": "1"})
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "{epochs: 3}"], "Error: PARAMS_JSON: invalid JSON at line 1, column 2"),
        (["train", "[1, 2]"], "Error: PARAMS_JSON: expected a JSON object"),
        (["train", '{"epochs": "many"}'], "params.dataset_path: required key is missing"),
        (
            ["train", '{"dataset_path": "d", "epochs": "many"}'],
            "params.epochs: input should be a valid integer",
        ),
        (["trian"], "Error: plugin 'demo-train' has no action 'trian' (did you mean 'train'?)"),
        (["train", "{}", "--job-id", "../evil"], "Error: --job-id '../evil': use 1-128 letters"),
    ],
    ids=["json", "not-object", "missing-field", "bad-type", "unknown-action", "bad-job-id"],
)
def test_bad_input_is_one_clear_line_exit_2_and_no_run(demo_plugin, store, args, message):
    proc = run_cli("plugin", "run", *args, cwd=demo_plugin)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert store.list_runs() == []


def test_outside_a_plugin_folder(tmp_path):
    proc = run_cli("plugin", "run", "train", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no config.yaml here; cd into a plugin folder or pass --path DIR" in proc.stderr


def test_bad_config_is_exit_2_naming_the_key(demo_plugin):
    config = demo_plugin / "config.yaml"
    config.write_text(config.read_text().replace('method: "job"', 'method: "jobs"'))
    proc = run_cli("plugin", "run", "train", cwd=demo_plugin)
    assert proc.returncode == 2
    assert "config.yaml: actions.train.method: expected one of job, task, restapi, got 'jobs'" in proc.stderr


def test_check_reports_every_problem_at_once(make_plugin):
    config = (
        FAILING_CONFIG
        + "  other:\n    entrypoint: plugin.other.Missing\n  third:\n    entrypoint: plugin.train.Nope\n"
    )
    folder = make_plugin(config, {"train.py": FAILING})
    proc = run_cli("plugin", "check", cwd=folder)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 2
    assert "actions.other.entrypoint: cannot import 'plugin.other.Missing'" in errors[0]
    assert "actions.third.entrypoint" in errors[1]


def test_check_lists_a_good_plugin(demo_plugin):
    proc = run_cli("plugin", "check", cwd=demo_plugin)
    assert proc.returncode == 0, proc.stderr
    assert "train" in proc.stdout and "plugin.train.TrainAction" in proc.stdout
