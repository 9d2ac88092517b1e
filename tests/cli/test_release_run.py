"""Running published releases with `synapse plugin run --plugin`: verified, extracted, in their own env."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow

CONFIG = """\
code: {code}
name: Six {code}
version: 1.0.0
category: neural_net
package_manager: uv
package_manager_options: []
actions:
  train:
    entrypoint: plugin.train.Train
    method: job
  quick:
    entrypoint: plugin.train.Train
    method: task
"""
TRAIN = """\
import sys

import six
from synapse_sdk.plugins.categories.neural_net import TrainAction


class Train(TrainAction):
    def start(self):
        self.run.log_message(f"six {six.__version__}")
        return {"six": six.__version__, "python": sys.executable}
"""


def publish_six(make_plugin, code: str, pin: str) -> Path:
    folder = make_plugin(CONFIG.format(code=code), {"train.py": TRAIN}, name=code)
    (folder / "requirements.txt").write_text(f"{pin}\n")
    proc = run_cli("plugin", "publish", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return folder


def run_json(*args: str, cwd: Path | None = None) -> dict:
    proc = run_cli("plugin", "run", *args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_two_releases_pinning_conflicting_versions_both_run(make_plugin, tmp_path, synapse_home):
    publish_six(make_plugin, "six-old", "six==1.16.0")
    publish_six(make_plugin, "six-new", "six==1.17.0")
    old = run_json("train", "--plugin", "six-old@1.0.0", cwd=tmp_path)
    new = run_json("quick", "--plugin", "six-new", cwd=tmp_path)
    assert (old["six"], new["six"]) == ("1.16.0", "1.17.0")
    assert old["python"] != new["python"] != sys.executable
    assert Path(old["python"]).is_relative_to(synapse_home / "envs")
    envs = run_cli("env", "list")
    assert envs.returncode == 0
    assert {line.split()[-1] for line in envs.stdout.splitlines()[1:]} == {"six==1.16.0", "six==1.17.0"}
    marker = Path(old["python"]).parent.parent / "synapse-env.json"
    built = marker.read_text()
    again = run_json("train", "--plugin", "six-old", cwd=tmp_path)
    assert again == old
    assert marker.read_text() == built  # reused, not rebuilt
    pruned = run_cli("env", "prune", "--all")
    assert pruned.returncode == 0 and "2 environment folder(s) removed" in pruned.stderr
    assert run_cli("env", "list").stderr.startswith("no cached environments")


def test_a_background_job_runs_the_release_in_its_env(make_plugin, tmp_path, store):
    publish_six(make_plugin, "six-old", "six==1.16.0")
    proc = run_cli(
        "plugin", "run", "train", "--plugin", "six-old@1.0.0", "--job-id", "rel-job-1", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    deadline = time.monotonic() + 60
    while not (record := store.get_run("rel-job-1")).status.is_terminal and time.monotonic() < deadline:
        time.sleep(0.1)
    assert record.status == "SUCCEEDED", record.error
    assert record.result["six"] == "1.16.0"
    assert "/envs/" in record.result["python"]
    assert (record.plugin_code, record.plugin_version) == ("six-old", "1.0.0")


def test_debug_keeps_the_fast_path_in_the_current_env(make_plugin, tmp_path):
    publish_six(make_plugin, "six-old", "six==1.16.0")
    result = run_json("quick", "--plugin", "six-old@1.0.0", "--debug", cwd=tmp_path)
    assert result["python"] == sys.executable


def test_a_release_without_requirements_runs_in_the_current_interpreter(demo_plugin, tmp_path, synapse_home):
    assert run_cli("plugin", "publish", cwd=demo_plugin).returncode == 0
    result = run_json("train", '{"dataset_path": "/d", "epochs": 2}', "--plugin", "demo-train", cwd=tmp_path)
    assert result["status"] == "success"
    assert not (synapse_home / "envs").exists()


def test_a_tampered_archive_is_refused_and_nothing_runs(demo_plugin, tmp_path, store, synapse_home):
    proc = run_cli("plugin", "publish", cwd=demo_plugin)
    checksum = json.loads(proc.stdout)["checksum"]
    archive = synapse_home / "archives" / f"{checksum}.tar.gz"
    data = bytearray(archive.read_bytes())
    data[-20] ^= 0x01
    archive.write_bytes(bytes(data))
    proc = run_cli(
        "plugin", "run", "train", '{"dataset_path": "/d"}', "--plugin", "demo-train@1.0.0", cwd=tmp_path
    )
    assert proc.returncode == 2
    assert "Error: demo-train@1.0.0 archive" in proc.stderr
    assert f"but the release records {checksum}" in proc.stderr
    assert store.list_runs() == []
    assert not (synapse_home / "releases").exists()


def test_an_unpublished_version_lists_what_is_published(demo_plugin, tmp_path):
    assert run_cli("plugin", "publish", cwd=demo_plugin).returncode == 0
    proc = run_cli("plugin", "run", "train", "--plugin", "demo-train@9.9.9", cwd=tmp_path)
    assert proc.returncode == 2
    assert "release 'demo-train@9.9.9' is not published; published versions: 1.0.0" in proc.stderr


def test_two_concurrent_first_runs_extract_and_build_once(make_plugin, tmp_path, synapse_home):
    import subprocess

    from tests.conftest import SYNAPSE

    publish_six(make_plugin, "six-old", "six==1.16.0")
    cmd = [SYNAPSE, "plugin", "run", "quick", "--plugin", "six-old@1.0.0"]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]  # fmt: skip
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    results = [json.loads(out) for out, _ in outputs]
    assert results[0] == results[1] and results[0]["six"] == "1.16.0"
    assert len(list((synapse_home / "envs").glob("*/synapse-env.json"))) == 1
    assert len(list((synapse_home / "releases").iterdir())) == 1
    assert not list((synapse_home / "envs").glob(".tmp-*"))
    assert not list((synapse_home / "releases").glob(".tmp-*"))


def test_a_locked_requirement_missing_from_the_registry_fails_the_run_naming_it(make_plugin, tmp_path, store,
                                                                               synapse_home):  # fmt: skip
    folder = make_plugin(CONFIG.format(code="six-bad"), {"train.py": TRAIN}, name="six-bad")
    # The author's own lock is used as it is: the registry is first asked when the env is built.
    (folder / "requirements.lock").write_text("six==1.16.0\nsynapse-no-such-package-4f2a9c==1.0\n")
    assert run_cli("plugin", "publish", cwd=folder).returncode == 0
    proc = run_cli("plugin", "run", "quick", "--plugin", "six-bad", cwd=tmp_path)
    assert proc.returncode == 2
    # The build is a phase of the run: shown, recorded, and its log kept in the run's folder.
    building, error = proc.stderr.splitlines()
    assert building == "building environment for six-bad@1.0.0 (uv, 2 packages)…"
    assert error.startswith("Error: cannot build the environment of six-bad@1.0.0: requirement "
                            "'synapse-no-such-package-4f2a9c' cannot be satisfied")  # fmt: skip
    assert "(uv exited with" in error
    (record,) = store.list_runs()
    log = synapse_home / "runs" / record.id / "environment-build.log"
    assert error.endswith(f"; the build log is {log}")
    assert "synapse-no-such-package-4f2a9c" in log.read_text()
    assert record.status == "FAILED" and record.error == error.removeprefix("Error: ")
    assert record.progress == {"environment": {"current": 0.0, "total": 1.0, "percent": 0.0}}
    assert [e.message for e in store.get_logs(record.id)][0] == building
    assert [p.name for p in (synapse_home / "envs").iterdir() if not p.name.endswith(".lock")] == []


def test_bad_params_for_a_release_in_its_own_env_exit_2(make_plugin, tmp_path, store):
    with_params = TRAIN.replace(
        "class Train(TrainAction):",
        "from pydantic import BaseModel\n\n\nclass P(BaseModel):\n    epochs: int = 1\n\n\n"
        "class Train(TrainAction):\n    params_model = P\n",
    )
    folder = make_plugin(CONFIG.format(code="six-params"), {"train.py": with_params}, name="six-params")
    (folder / "requirements.txt").write_text("six==1.16.0\n")
    assert run_cli("plugin", "publish", cwd=folder).returncode == 0
    proc = run_cli("plugin", "run", "train", '{"epochs": "many"}', "--plugin", "six-params", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "params.epochs: input should be a valid integer" in proc.stderr
    (record,) = store.list_runs()
    assert record.status == "FAILED"


def test_a_file_edited_inside_the_extracted_release_stops_the_next_run(demo_plugin, tmp_path, store,
                                                                       synapse_home):  # fmt: skip
    proc = run_cli("plugin", "publish", cwd=demo_plugin)
    checksum = json.loads(proc.stdout)["checksum"]
    params = '{"dataset_path": "/d", "epochs": 1}'
    first = run_cli("plugin", "run", "train", params, "--plugin", "demo-train@1.0.0", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    folder = synapse_home / "releases" / checksum
    train = folder / "plugin" / "train.py"
    train.chmod(0o644)  # read-only stops an accident, not someone who means it (or root)
    train.write_text(train.read_text() + "\nimport os\nos.system('echo pwned')\n")
    runs = len(store.list_runs())
    proc = run_cli("plugin", "run", "train", params, "--plugin", "demo-train@1.0.0", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"Error: release folder {folder} differs from what was extracted: "
                                  "'plugin/train.py' was changed; nothing was run; delete it")  # fmt: skip
    assert "pwned" not in proc.stdout + proc.stderr
    assert len(store.list_runs()) == runs
    by_path = run_cli("plugin", "run", "train", params, "--path", str(folder), cwd=tmp_path)
    assert by_path.returncode == 2 and "'plugin/train.py' was changed" in by_path.stderr
