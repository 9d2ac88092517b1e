"""A published release on a real Ray cluster: its extracted folder is the working_dir, its lock the env."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.ray

CONFIG = """\
code: six-ray
name: Six on Ray
version: 1.0.0
category: neural_net
package_manager: uv
package_manager_options: []
actions:
  probe:
    entrypoint: plugin.probe.Probe
    method: task
"""
SOURCE = """\
import os
import six
from synapse_sdk.plugins.categories.base import Action

class Probe(Action):
    name = "probe"

    def start(self):
        return {"six": six.__version__, "lock": os.path.isfile(self.plugin_path / "requirements.lock")}
"""


def test_a_release_runs_on_ray_with_its_locked_requirements(ray_cluster, make_plugin, tmp_path, synapse_home):
    folder = make_plugin(CONFIG, {"probe.py": SOURCE})
    (folder / "requirements.txt").write_text("six==1.16.0\n")
    assert run_cli("plugin", "publish", cwd=folder).returncode == 0
    proc = run_cli("plugin", "run", "probe", "--plugin", "six-ray@1.0.0", cwd=tmp_path, env=ray_cluster.env)
    assert proc.returncode == 0, proc.stderr
    # six 1.16.0 comes from the release's lock, installed by Ray; the working_dir is the release.
    assert json.loads(proc.stdout) == {"six": "1.16.0", "lock": True}
    assert not (synapse_home / "envs").exists()  # no local env for a run on Ray
