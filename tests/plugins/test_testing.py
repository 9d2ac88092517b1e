"""The testing kit runs actions against a temporary embedded backend and reads back what they recorded.

The ``synapse_run`` fixture itself is exercised by every generated plugin's tests
(tests/plugins/test_templates.py runs them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from synapse_sdk.backend.store.runs import RunStore
from synapse_sdk.errors import ParamsError
from synapse_sdk.plugins.testing import find_plugin_root, run_action

FAILING = """
from synapse_sdk.plugins.categories.data_validation import ValidationAction

class Check(ValidationAction):
    def start(self):
        self.run.log_message("checking")
        self.run.set_progress(1, 4, "validation")
        raise RuntimeError("bad row 7")
"""

CONFIG = """
code: failing
name: Failing
version: 1.0.0
category: data_validation
actions:
  validation: {entrypoint: plugin.check.Check, method: task}
"""


def test_a_run_reads_back_result_logs_progress_and_metrics(demo_plugin: Path, monkeypatch) -> None:
    monkeypatch.setenv("SYNAPSE_HOME", "/nonexistent/untouched")
    monkeypatch.setenv("SYNAPSE_HOST", "http://127.0.0.1:9")

    run = run_action(demo_plugin, "train", {"dataset_path": "/data", "epochs": 3})

    assert run.succeeded and run.status == "SUCCEEDED"
    assert run.result == {"status": "success", "final_loss": run.metric_values("training", "loss")[-1]}
    assert run.messages == ["Starting training...", "Training completed!"]
    assert run.progress["training"] == {"current": 3, "total": 3, "percent": 100.0}
    assert len(run.metric_history) == 3
    assert run.metrics["training"]["loss"] == run.metric_values("training", "loss")[-1]
    assert run.record.plugin == "demo-train@1.0.0"
    # The caller's environment is restored; the remote backend was never used.
    assert os.environ["SYNAPSE_HOME"] == "/nonexistent/untouched"
    assert os.environ["SYNAPSE_HOST"] == "http://127.0.0.1:9"


def test_a_given_home_keeps_the_run(demo_plugin: Path, tmp_path: Path) -> None:
    run = run_action(demo_plugin, "train", {"dataset_path": "d", "epochs": 1}, home=tmp_path)

    stored = RunStore(tmp_path / "synapse.db").get_run(run.id)
    assert stored.status.value == "SUCCEEDED"
    assert stored.params == {"dataset_path": "d", "epochs": 1}


def test_a_failing_action_raises_or_is_returned(make_plugin) -> None:
    folder = make_plugin(CONFIG, {"check.py": FAILING})

    with pytest.raises(RuntimeError, match="bad row 7"):
        run_action(folder, "validation")

    run = run_action(folder, "validation", check=False)
    assert run.status == "FAILED" and not run.succeeded
    assert run.error == "RuntimeError: bad row 7"
    assert isinstance(run.exception, RuntimeError)
    assert run.messages == ["checking", "action failed: RuntimeError: bad row 7"]
    assert run.progress["validation"]["current"] == 1


def test_bad_params_fail_before_anything_runs(demo_plugin: Path, tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="dataset_path"):
        run_action(demo_plugin, "train", {"epochs": 2}, home=tmp_path)
    assert not (tmp_path / "synapse.db").exists() or not RunStore(tmp_path / "synapse.db").list_runs()


def test_find_plugin_root_walks_up(demo_plugin: Path) -> None:
    assert find_plugin_root(demo_plugin / "plugin" / "train.py") == demo_plugin.resolve()
    with pytest.raises(FileNotFoundError, match="no config.yaml"):
        find_plugin_root(demo_plugin.parent)


PROJECTS = """
from synapse_sdk.plugins.categories.data_validation import ValidationAction

class Count(ValidationAction):
    def start(self):
        return {"projects": [p["title"] for p in self.client.list_projects()["results"]]}
"""


def test_synapse_client_reaches_the_platform_synapse_run_runs_against(
    make_plugin, synapse_run, synapse_client
) -> None:
    folder = make_plugin(CONFIG.replace("plugin.check.Check", "plugin.count.Count"), {"count.py": PROJECTS})
    synapse_client.create_project({"title": "made by the test"})

    run = synapse_run("validation", plugin_dir=folder)

    assert run.result == {"projects": ["made by the test"]}
