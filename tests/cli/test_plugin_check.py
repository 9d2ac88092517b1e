"""`synapse plugin check`: config and entrypoint problems together, one ``Error:`` line each."""

from __future__ import annotations

from tests.conftest import run_cli

CONFIG = """\
code: mixed
name: Mixed
version: 0.1.0
category: upload
actions:
  upload:
    entrypoint: plugin.upload.Upload
    method: jobs
  train:
    entrypoint: plugin.nowhere.Train
  serve_it:
    entrypoint: plugin.upload.Upload
    method: restapi
  wrong_base:
    entrypoint: plugin.upload.Upload
"""
SOURCE = """\
from synapse_sdk.plugins.categories.upload import UploadAction

class Upload(UploadAction):
    def start(self):
        return None
"""
NEURAL_NET = """\
code: wrong
name: Wrong
version: 0.1.0
category: neural_net
actions:
  train:
    entrypoint: plugin.upload.Upload
"""


def errors(stderr: str) -> list[str]:
    return [line.removeprefix("Error: ") for line in stderr.splitlines() if line.startswith("Error: ")]


def test_config_and_import_problems_are_reported_together(make_plugin):
    folder = make_plugin(CONFIG, {"upload.py": SOURCE})
    proc = run_cli("plugin", "check", cwd=folder)
    assert proc.returncode == 2
    file = folder / "config.yaml"
    assert errors(proc.stderr) == [
        f"{file}: actions.upload.method: expected one of job, task, got 'jobs' (did you mean 'job'?)",
        f"{file}: actions.serve_it.method: upload plugins cannot use 'restapi'; use one of job, task "
        "(restapi is for neural_net and smart_tool plugins)",
        f"{file}: actions.train.entrypoint: cannot import 'plugin.nowhere.Train': No module named "
        "'plugin.nowhere'; check the module path and that the file exists in the plugin folder",
    ]
    assert proc.stdout == ""  # no "ok" line while config.yaml itself is invalid


def test_with_a_valid_config_the_actions_that_load_are_listed(make_plugin):
    config = NEURAL_NET + "  preprocess:\n    entrypoint: plugin.upload.Upload\n    method: task\n"
    proc = run_cli("plugin", "check", cwd=make_plugin(config, {"upload.py": SOURCE}))
    assert proc.returncode == 2
    assert proc.stdout.split() == ["ok", "preprocess", "task", "plugin.upload.Upload"]
    assert len(errors(proc.stderr)) == 1


def test_a_class_of_the_wrong_base_names_both_classes(make_plugin):
    folder = make_plugin(NEURAL_NET, {"upload.py": SOURCE})
    proc = run_cli("plugin", "check", "--path", str(folder))
    assert proc.returncode == 2
    assert errors(proc.stderr) == [
        f"{folder / 'config.yaml'}: actions.train.entrypoint: plugin.upload.Upload is an UploadAction "
        "(synapse_sdk.plugins.categories.upload.UploadAction), not a neural_net train action; "
        "subclass synapse_sdk.plugins.categories.neural_net.TrainAction"
    ]
