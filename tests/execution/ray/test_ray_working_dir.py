"""A plugin folder shipped to the cluster as a task's working_dir, packed outside itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ray

UPLOAD = """
import json, os, sys
import ray
from synapse_sdk.runtime_env.ray import upload_working_dir

ray.init(address=os.environ["SYNAPSE_RAY_ADDRESS"], logging_level="ERROR")
env = upload_working_dir({"working_dir": os.getcwd()})
print(json.dumps({"uri": env["working_dir"], "left": sorted(os.listdir("."))}))
"""


def test_the_working_dir_is_packed_outside_itself_even_when_it_is_the_current_folder(ray_cluster, tmp_path):
    """Ray's helper packs into the current folder by default: run from the plugin folder, the zip
    would land in the folder it is packing and grow until the disk is full."""
    folder = tmp_path / "plugin"
    folder.mkdir()
    (folder / "action.py").write_text("print('hello')\n")
    env = {**os.environ, **ray_cluster.env}
    out = subprocess.run(
        [sys.executable, "-c", UPLOAD], cwd=folder, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["uri"].startswith("gcs://")
    assert found["left"] == ["action.py"]  # no package zip left in (or growing inside) the folder
    assert sum(p.stat().st_size for p in Path(folder).iterdir()) < 100
