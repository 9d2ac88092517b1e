"""A folder per run: the action writes into ``self.run.path``; relative params resolve where the user is."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli

CONFIG = """\
code: folders
name: Folders
version: 1.0.0
category: neural_net
package_manager_options: []
actions:
  train:
    entrypoint: plugin.train.Train
    method: {method}
"""
SOURCE = """\
import os
from pathlib import Path

from pydantic import BaseModel
from synapse_sdk.plugins.categories.neural_net import TrainAction


class Params(BaseModel):
    data: str = "mydata/pts.csv"


class Train(TrainAction):
    params_model = Params

    def start(self):
        rows = Path(self.params["data"]).read_text().splitlines()
        model = self.run.path / "model.txt"
        model.write_text(f"{len(rows)} rows")
        return {"rows": len(rows), "model": str(model), "cwd": os.getcwd()}
"""


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    """The folder a user runs commands from, holding their data under a relative path."""
    folder = tmp_path / "user"
    (folder / "mydata").mkdir(parents=True)
    (folder / "mydata" / "pts.csv").write_text("x,y\n1,2\n3,4\n")
    return folder


def _plugin(make_plugin, method: str) -> Path:
    return make_plugin(CONFIG.format(method=method), {"train.py": SOURCE}, name=f"folders-{method}")


def _wait_ended(store, run_id: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (record := store.get_run(run_id)).status.is_terminal:
        assert time.monotonic() < deadline, f"run {run_id} did not end"
        time.sleep(0.05)
    return record


def _assert_in_run_folder(store, synapse_home: Path, user_dir: Path, run_id: str, result: dict) -> None:
    folder = synapse_home / "runs" / run_id
    assert result["rows"] == 3  # mydata/pts.csv was found in the user's folder
    assert Path(result["cwd"]).resolve() == user_dir.resolve()
    assert Path(result["model"]) == folder / "model.txt"
    assert (folder / "model.txt").read_text() == "3 rows"
    assert store.get_run(run_id).extra["folder"] == str(folder)
    shown = run_cli("job", "get", run_id)
    assert f"folder       {folder}" in shown.stdout
    assert json.loads(run_cli("job", "get", run_id, "--json").stdout)["folder"] == str(folder)


@pytest.mark.parametrize("method", ["task", "job"])
def test_a_foreground_run_writes_in_its_folder_and_reads_relative_to_the_user(
    make_plugin, user_dir, store, synapse_home, method
):
    plugin = _plugin(make_plugin, method)
    proc = run_cli("plugin", "run", "train", "--path", str(plugin), cwd=user_dir)
    assert proc.returncode == 0, proc.stderr
    (record,) = store.list_runs()
    _assert_in_run_folder(store, synapse_home, user_dir, record.id, json.loads(proc.stdout))
    assert not (plugin / "model.txt").exists()


def test_a_debug_run_does_the_same(make_plugin, user_dir, store, synapse_home):
    plugin = _plugin(make_plugin, "job")
    proc = run_cli("plugin", "run", "train", "--debug", "--path", str(plugin), cwd=user_dir)
    assert proc.returncode == 0, proc.stderr
    (record,) = store.list_runs()
    _assert_in_run_folder(store, synapse_home, user_dir, record.id, json.loads(proc.stdout))


def test_a_background_job_does_the_same(make_plugin, user_dir, store, synapse_home):
    plugin = _plugin(make_plugin, "job")
    proc = run_cli("plugin", "run", "train", "--job-id", "bg-1", "--path", str(plugin), cwd=user_dir)
    assert proc.returncode == 0, proc.stderr
    record = _wait_ended(store, "bg-1")
    assert record.status == "SUCCEEDED", record.error
    _assert_in_run_folder(store, synapse_home, user_dir, "bg-1", record.result)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["task", "job"])
def test_a_release_runs_in_the_users_folder_and_its_own_folder_is_read_only(
    make_plugin, user_dir, store, synapse_home, method
):
    plugin = _plugin(make_plugin, method)
    assert run_cli("plugin", "publish", cwd=plugin).returncode == 0
    proc = run_cli("plugin", "run", "train", "--plugin", "folders@1.0.0", cwd=user_dir)
    assert proc.returncode == 0, proc.stderr
    (record,) = store.list_runs()
    _assert_in_run_folder(store, synapse_home, user_dir, record.id, json.loads(proc.stdout))
    (release,) = (synapse_home / "releases").iterdir()
    writable = [
        p for p in [release, *release.rglob("*")]
        if p.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    ]  # fmt: skip
    assert writable == []
    assert not list(release.rglob("model.txt"))


def test_prune_frees_the_folders_of_runs_that_ended_long_ago(make_plugin, user_dir, store, synapse_home):
    plugin = _plugin(make_plugin, "task")
    for _ in range(2):
        assert run_cli("plugin", "run", "train", "--path", str(plugin), cwd=user_dir).returncode == 0
    old, recent = sorted(store.list_runs(), key=lambda r: r.created_at)
    store.update(old.id, finished_at=time.time() - 10 * 86_400)
    active = synapse_home / "runs" / "not-ended"
    from synapse_sdk.backend.schemas import NewRun

    store.create_run(NewRun(id="not-ended", action="train"))
    active.mkdir(parents=True)
    stray = synapse_home / "runs" / "unknown-run"
    stray.mkdir()

    dry = run_cli("job", "prune", "--older-than", "7", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert old.id in dry.stdout and "would free 1 folder(s)" in dry.stdout
    assert (synapse_home / "runs" / old.id).is_dir()

    pruned = run_cli("job", "prune", "--older-than", "7")
    assert pruned.returncode == 0, pruned.stderr
    assert "freed 1 folder(s)" in pruned.stdout
    assert not (synapse_home / "runs" / old.id).exists()
    assert (synapse_home / "runs" / recent.id / "model.txt").is_file()
    assert active.is_dir() and stray.is_dir()
    assert store.get_run(old.id).status == "SUCCEEDED"  # the record stays

    everything = run_cli("job", "prune", "--older-than", "0")
    assert "freed 1 folder(s)" in everything.stdout  # the recent one; never the active run's
    assert active.is_dir()


def test_the_run_folder_is_made_on_first_use_only(store, synapse_home):
    from synapse_sdk.plugins.categories.neural_net import TrainAction

    class Quiet(TrainAction):
        def start(self):
            return {"folder_made": os.path.isdir(synapse_home / "runs" / self.run.id)}

    action = Quiet()
    assert action.run_action() == {"folder_made": False}
    assert action.run.path == synapse_home / "runs" / action.run.id
    assert action.run.path.is_dir()
