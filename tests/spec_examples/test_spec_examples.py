"""Every code example of the spec's plugin chapter runs as written (see snippets/)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from synapse_sdk.errors import ParamsError
from tests.conftest import run_cli

SNIPPETS = Path(__file__).parent / "snippets"
SPEC_CONFIG = """\
code: "my-plugin"
name: "My Custom Plugin"
version: "1.0.0"
category: "neural_net"
description: "A custom ML plugin"
package_manager: "pip"
actions:
  train:
    entrypoint: "plugin.train.TrainAction"
    method: "job"
    description: "Train a neural network model"
"""


@pytest.fixture
def spec_plugin(make_plugin):
    folder = make_plugin(SPEC_CONFIG, name="synapse-my-plugin-plugin")
    shutil.copy(SNIPPETS / "train.py", folder / "plugin" / "train.py")
    shutil.copy(SNIPPETS / "advanced.py", folder / "plugin" / "advanced.py")
    return folder


def test_cli_lines_of_the_spec(spec_plugin, store):
    # synapse plugin run train '{"dataset_path": "/data/images", "epochs": 20}'  (local plugin)
    proc = run_cli(
        "plugin", "run", "train", '{"dataset_path": "/data/images", "epochs": 20}', cwd=spec_plugin
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"status": "success", "final_loss": 0.05}
    # synapse plugin run train '{"dataset_path": "/data/images"}' --debug
    proc = run_cli("plugin", "run", "train", '{"dataset_path": "/data/images"}', "--debug", cwd=spec_plugin)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["final_loss"] == 0.1
    # synapse plugin run train '{"dataset_path": "/data/images"}' --job-id my-training-job
    args = ["train", '{"dataset_path": "/data/images"}', "--job-id", "my-training-job"]
    proc = run_cli("plugin", "run", *args, cwd=spec_plugin)
    assert proc.returncode == 0, proc.stderr
    assert store.get_run("my-training-job").action == "train"


def test_programmatic_usage(spec_plugin, store, monkeypatch):
    monkeypatch.chdir(spec_plugin)
    plugin_config = yaml.safe_load((spec_plugin / "config.yaml").read_text())
    env_vars = {"DATA_ROOT": "/data"}
    # --- spec ---
    from synapse_sdk.plugins.utils import get_action_class

    # Get action class by category and name
    ActionClass = get_action_class("neural_net", "train")
    # Create and run action
    action = ActionClass(
        params={"dataset_path": "/data/images", "epochs": 10}, plugin_config=plugin_config, envs=env_vars
    )
    result = action.run_action()
    # --- end ---
    assert result == {"status": "success", "final_loss": 0.1}
    record = store.get_run(action.run.id)
    assert record.status == "SUCCEEDED"
    assert record.progress == {"training": {"current": 10, "total": 10, "percent": 100.0}}
    assert [e.message for e in store.get_logs(action.run.id)] == [
        "Starting training...",
        "Training completed!",
    ]


def load(spec_plugin, monkeypatch, name):
    import importlib
    import sys

    monkeypatch.syspath_prepend(str(spec_plugin))
    for module in [m for m in sys.modules if m == "plugin" or m.startswith("plugin.")]:
        monkeypatch.delitem(sys.modules, module)  # another test's plugin package of the same name

    return getattr(importlib.import_module("plugin.advanced"), name)


def test_custom_progress_categories(spec_plugin, store, monkeypatch):
    action = load(spec_plugin, monkeypatch, "MyAction")()
    action.run_action()
    assert store.get_run(action.run.id).progress == {
        "preprocessing": {"current": 50, "total": 100, "percent": 50.0},
        "training": {"current": 10, "total": 50, "percent": 20.0},
    }


def test_custom_metrics(spec_plugin, store, monkeypatch):
    action = load(spec_plugin, monkeypatch, "MetricsAction")()
    action.run_action()
    assert store.get_run(action.run.id).metrics == {
        "validation": {"accuracy": 0.95, "loss": 0.1, "f1_score": 0.92}
    }


def test_runtime_env_customisation(spec_plugin, monkeypatch):
    (spec_plugin / "requirements.txt").write_text("numpy\n")
    action = load(spec_plugin, monkeypatch, "EnvAction")(envs={"A": "1"}, plugin_path=spec_plugin)
    env = action.run_action()
    assert env["env_vars"] == {"A": "1", "CUSTOM_VAR": "value"}
    assert env["pip"]["packages"] == ["numpy", "custom-package==1.0.0"]


def test_monitoring_examples(spec_plugin, store, monkeypatch):
    action = load(spec_plugin, monkeypatch, "MonitoringAction")()
    action.run_action()
    record = store.get_run(action.run.id)
    logs = store.get_logs(action.run.id)
    assert [(e.level, e.message) for e in logs[:3]] == [
        ("INFO", "Processing started"),
        ("WARNING", "Warning: low memory"),
        ("ERROR", "Error occurred"),
    ]
    assert (logs[3].event, logs[3].data["checkpoint_path"]) == (
        "model_checkpoint",
        "/models/checkpoint_10.pth",
    )
    assert record.progress["default"]["percent"] == 50.0
    assert record.progress["validation"] == {"current": 20, "total": 50, "percent": 40.0}
    assert record.metrics["training"]["train_loss"] == 0.1
    assert record.metrics["performance"]["throughput"] == 200


def test_parameter_validation(make_plugin):
    import importlib.util

    spec = importlib.util.spec_from_file_location("spec_validation", SNIPPETS / "validation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from synapse_sdk.plugins.categories.neural_net import TrainAction

    class Train(TrainAction):
        params_model = module.TrainParams

        def start(self):
            return self.params

    assert Train(params={"model_type": "cnn", "dataset_path": "/d"}).params["batch_size"] == 32
    with pytest.raises(ParamsError, match="params.batch_size: Batch size must be between 1 and 512"):
        Train(params={"model_type": "cnn", "dataset_path": "/d", "batch_size": 0})
    with pytest.raises(
        ParamsError, match="params.model_type: expected one of cnn, transformer, resnet, got 'rnn'"
    ):
        Train(params={"model_type": "rnn", "dataset_path": "/d"})
