"""Building a release's environment is a visible phase of its run: terminal, record, job watch."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow

CONFIG = """\
code: envy
name: Envy
version: 1.0.0
category: neural_net
package_manager: uv
package_manager_options: []
actions:
  train:
    entrypoint: plugin.train.Train
    method: job
"""
TRAIN = """\
import six
from pydantic import BaseModel
from synapse_sdk.plugins.categories.neural_net import TrainAction


class Params(BaseModel):
    steps: int = 2


class Train(TrainAction):
    params_model = Params

    def start(self):
        self.run.log_message(f"six {six.__version__}")
        self.run.set_progress(1, 1, "work")
        return {"six": six.__version__}
"""
BUILDING = "building environment for envy@1.0.0 (uv, 1 package)…"
READY = re.compile(r"environment for envy@1\.0\.0 ready in \d+\.\ds")


@pytest.fixture
def published(make_plugin, synapse_home):  # type: ignore[no-untyped-def]
    folder = make_plugin(CONFIG, {"train.py": TRAIN}, name="envy")
    (folder / "requirements.txt").write_text("six==1.16.0\n")
    assert run_cli("plugin", "publish", cwd=folder).returncode == 0
    shutil.rmtree(synapse_home / "envs", ignore_errors=True)  # no env yet: the first run builds it
    return folder


def test_a_job_whose_environment_is_built_shows_the_phase_in_the_terminal_record_and_watch(
    published, tmp_path, store
):  # type: ignore[no-untyped-def]
    proc = run_cli("plugin", "run", "train", "--plugin", "envy", "--job-id", "e1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"job_id": "e1", "status": "PENDING"}
    building, ready, submitted = proc.stderr.splitlines()
    assert building == BUILDING and READY.fullmatch(ready), proc.stderr
    assert submitted.startswith("submitted job e1")
    watched = run_cli("job", "watch", "e1")
    assert watched.returncode == 0, watched.stderr
    lines = watched.stdout.splitlines()
    assert f"[INFO] {BUILDING}" in lines and "[progress] environment: ready" in lines
    assert "[INFO] six 1.16.0" in lines and lines[-1] == "-- run e1 ended SUCCEEDED"
    record = store.get_run("e1")
    assert record.progress["environment"] == {"current": 1.0, "total": 1.0, "percent": 100.0}
    assert record.extra["environment"] == "built" and record.is_job
    assert [e.message for e in store.get_logs("e1")][:3] == [BUILDING, ready, "six 1.16.0"]


def test_a_foreground_run_prints_the_phase_once(published, tmp_path, store):  # type: ignore[no-untyped-def]
    proc = run_cli("plugin", "run", "train", "--plugin", "envy", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"six": "1.16.0"}
    assert proc.stderr.count(BUILDING) == 1 and len(READY.findall(proc.stderr)) == 1, proc.stderr
    assert "[INFO] six 1.16.0" in proc.stderr
    (record,) = store.list_runs()
    assert record.status == "SUCCEEDED" and record.progress["environment"]["percent"] == 100.0
    again = run_cli("plugin", "run", "train", "--plugin", "envy", cwd=tmp_path)  # cached: no phase
    assert again.returncode == 0 and "building environment" not in again.stderr
    assert "environment" not in store.list_runs()[0].progress
