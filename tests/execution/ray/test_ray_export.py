"""A sharded export (``extra_params.num_shards``) run as a Ray job writes byte for byte what a single
worker writes; a shard whose worker dies fails the export naming its chunk, and resume goes on."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.categories.export.manifest import MANIFEST_NAME
from synapse_sdk.plugins.testing import run_action
from tests.conftest import run_cli
from tests.plugins.categories.export_platform import EXPORT_CONFIG, tree_digest

pytestmark = pytest.mark.ray

ITEMS = 300
#: Kills its Ray worker at item 0150.png while the marker file exists (it removes it first); fails
#: the item named ``fail_name``.
EXPORTER = """
import os

from synapse_sdk.plugins.categories.export import BaseExporter


class Exporter(BaseExporter):
    def convert_data(self, data):
        if data["files"]["file_name"] == self.params.get("fail_name"):
            raise ValueError("this one is broken")
        return data

    def before_convert(self, export_item):
        marker = self.params.get("kill_marker")
        if marker and export_item["files"]["file_name"] == "0150.png" and os.path.exists(marker):
            os.unlink(marker)
            os._exit(1)
        return export_item
"""


@pytest.fixture
def squares(tmp_path: Path) -> int:
    """300 generated images with a box each, imported with a frozen ground-truth version (its id)."""
    from synapse_sdk.clients.backend.imports import import_coco
    from tests.clients.samples import write_generated

    images, coco = write_generated(tmp_path / "squares", count=ITEMS, size=(48, 36))
    report = import_coco(get_backend_client(), images, coco, project="squares", ground_truth="sq", seed=1)
    assert report.ground_truth_version is not None
    return report.ground_truth_version


def _params(version: int, fmt: str, **extra: object) -> dict:
    return {
        "name": "sharded",
        "storage": 1,
        "target": "ground_truth",
        "save_original_file": True,
        "filter": {"ground_truth_dataset_version": version},
        "extra_params": {"output_format": fmt, **extra},
    }


def _on_ray(ray_cluster, plugin: Path, home: Path, params: dict):  # type: ignore[no-untyped-def]
    return run_cli(
        "plugin", "run", "export", json.dumps(params), cwd=plugin,
        env={**ray_cluster.env, "SYNAPSE_HOME": str(home)}, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("fmt", ["json", "coco", "yolo"])
def test_three_shards_on_ray_write_what_one_worker_writes(
    ray_cluster, make_plugin, squares, synapse_home, store, fmt
):
    plugin = make_plugin(EXPORT_CONFIG.format(code="shard-test"), {"export.py": EXPORTER}, name="shard-test")
    out = synapse_home / "storages" / "default" / "exports" / "sharded"
    started = time.monotonic()
    single = run_action(plugin, "export", _params(squares, fmt, fail_name="0042.png"), home=synapse_home)
    single_seconds = time.monotonic() - started
    assert (single.result["success"], single.result["failed"]) == (ITEMS - 1, 1)
    reference = tree_digest(out, skip=(MANIFEST_NAME,))
    manifest = (out / MANIFEST_NAME).read_bytes()
    out.rename(out.with_name("reference"))

    started = time.monotonic()
    proc = _on_ray(
        ray_cluster, plugin, synapse_home, _params(squares, fmt, fail_name="0042.png", num_shards=3)
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert (result["export_path"], result["total"], result["success"]) == (str(out), ITEMS, ITEMS - 1)
    # The failed item failed alone, and is listed as a single worker lists it (error_file_list.json).
    assert result["failed"] == 1 and "error_file_list.json" in reference
    assert tree_digest(out, skip=(MANIFEST_NAME,)) == reference
    # The manifest too: the same records in the same order (num_shards is not part of the fingerprint).
    assert (out / MANIFEST_NAME).read_bytes() == manifest
    assert not (out / ".coco").exists()
    # It ran sharded, and what the hooks reported in the shards reached the run, in stream order.
    job = next(r for r in store.list_runs() if r.id != single.id)
    logs = store.get_logs(job.id)
    assert any("Sharding the export" in (e.message or "") for e in logs)
    assert any("this one is broken" in (e.message or "") for e in logs)
    assert [e.data for e in logs if e.event == "export_file"] == single.events("export_file")
    print(f"{fmt}: 1 worker {single_seconds:.1f}s, 3 shards as a Ray job {time.monotonic() - started:.1f}s")


def test_a_dead_shard_fails_the_export_naming_its_chunk_and_resume_goes_on(
    ray_cluster, make_plugin, squares, synapse_home, tmp_path
):
    plugin = make_plugin(EXPORT_CONFIG.format(code="shard-kill"), {"export.py": EXPORTER}, name="shard-kill")
    marker = tmp_path / "kill-once"
    params = _params(squares, "coco", num_shards=3, kill_marker=str(marker))
    out = synapse_home / "storages" / "default" / "exports" / "sharded"
    run_action(plugin, "export", {**params, "extra_params": {**params["extra_params"], "num_shards": 1}},
               home=synapse_home)  # fmt: skip
    reference = tree_digest(out, skip=(MANIFEST_NAME,))
    out.rename(out.with_name("reference"))

    marker.touch()
    killed = _on_ray(ray_cluster, plugin, synapse_home, params)
    assert killed.returncode != 0
    assert "export shard of chunk 2 (items #101-#200) failed" in killed.stderr, killed.stderr
    assert "resume: true" in killed.stderr
    assert not marker.exists()
    recorded = (out / MANIFEST_NAME).read_bytes().count(b"\n") - 1
    assert 100 <= recorded < ITEMS  # chunk 1 reached the manifest, chunk 2 did not

    resumed = _on_ray(ray_cluster, plugin, synapse_home, {**params, "resume": True})
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["resumed"] == recorded and result["success"] == ITEMS
    assert tree_digest(out, skip=(MANIFEST_NAME,)) == reference


def test_a_local_export_with_a_ray_address_ships_its_plugin_to_the_shards(
    ray_cluster, make_plugin, squares, synapse_home
):
    plugin = make_plugin(
        EXPORT_CONFIG.format(code="shard-local"), {"export.py": EXPORTER}, name="shard-local"
    )
    out = synapse_home / "storages" / "default" / "exports" / "sharded"
    run_action(plugin, "export", _params(squares, "yolo"), home=synapse_home)
    reference = tree_digest(out, skip=(MANIFEST_NAME,))
    out.rename(out.with_name("reference"))

    # --debug: the export runs in the CLI's process, which connects to the cluster and uploads the plugin.
    proc = run_cli(
        "plugin", "run", "export", json.dumps(_params(squares, "yolo", num_shards=2)), "--debug", cwd=plugin,
        env={**ray_cluster.env, "SYNAPSE_HOME": str(synapse_home)}, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["success"] == ITEMS
    assert tree_digest(out, skip=(MANIFEST_NAME,)) == reference
