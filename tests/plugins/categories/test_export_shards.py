"""``extra_params.num_shards``: checked at the door; 1 is the single-worker loop; more needs Ray.

The sharded export itself runs on the session's Ray cluster: ``tests/execution/ray/test_ray_export.py``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from synapse_sdk.errors import ParamsError
from synapse_sdk.plugins.testing import run_action
from tests.conftest import run_cli
from tests.plugins.categories.export_platform import tree_digest


def _params(project: int, **extra: object) -> dict:
    return {
        "name": "n",
        "storage": 1,
        "target": "task",
        "filter": {"project": project},
        "extra_params": extra,
    }


@pytest.mark.parametrize("value", [0, 257, "3", True, 2.5])
def test_num_shards_outside_1_to_256_is_refused(export_plugin, photo_platform, synapse_home, value):
    params = _params(photo_platform.project, num_shards=value)
    with pytest.raises(
        ParamsError, match="params.extra_params.num_shards: expected a whole number from 1 to 256"
    ):
        run_action(export_plugin(), "export", params, home=synapse_home)


def test_more_shards_without_ray_installed_say_what_to_install(
    export_plugin, photo_platform, synapse_home, monkeypatch
):
    real = importlib.util.find_spec
    # Ray cannot be uninstalled for one test: its import spec is hidden (stdlib lookup, not our code).
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    params = _params(photo_platform.project, num_shards=4)
    with pytest.raises(ParamsError) as raised:
        run_action(export_plugin(), "export", params, home=synapse_home)
    assert "params.extra_params.num_shards: 4 shards run as Ray tasks" in str(raised.value)
    assert "install synapse-plugin-sdk[ray]" in str(raised.value)


def test_more_shards_without_a_ray_cluster_say_how_to_name_one(export_plugin, photo_platform, synapse_home):
    pytest.importorskip("ray")
    # A process of its own: this one may be connected to the session's test cluster.
    params = json.dumps(_params(photo_platform.project, num_shards=2))
    result = run_cli(
        "plugin", "run", "export", params, "--path", str(export_plugin()), "--debug",
        env={"RAY_ADDRESS": "", "SYNAPSE_RAY_ADDRESS": ""},
    )  # fmt: skip
    assert result.returncode != 0
    assert "no Ray cluster is set" in result.stderr and "SYNAPSE_RAY_ADDRESS" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (synapse_home / "storages" / "default" / "exports").exists()  # nothing half-written


def test_one_shard_is_the_single_worker_export(export_plugin, photo_platform, synapse_home):
    plugin = export_plugin()
    plain = run_action(plugin, "export", _params(photo_platform.project), home=synapse_home)
    one = run_action(plugin, "export", _params(photo_platform.project, num_shards=1), home=synapse_home)
    assert one.result["success"] == plain.result["success"] == 4
    skip = ("export_manifest.jsonl",)  # it names its folder
    assert tree_digest(Path(one.result["export_path"]), skip) == tree_digest(
        Path(plain.result["export_path"]), skip
    )
