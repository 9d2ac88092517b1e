"""A sharded upload (``extra_params.num_shards``) run as a Ray job ends with the same data units as
one worker: its batches run in Ray tasks, their reports and counts reach the job's run."""

from __future__ import annotations

import json

import pytest

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.testing import run_action
from tests.conftest import run_cli
from tests.plugins.categories.upload_platform import UPLOAD_CONFIG, pairs_collection, units_of, write_pairs

pytestmark = pytest.mark.ray

UNITS = 60
UPLOADER = """
from synapse_sdk.plugins.categories.upload import BaseUploader


class Uploader(BaseUploader):
    def process_files(self, files):
        for group in files:
            group["meta"]["stem"] = group["files"]["image"].stem
            if group["files"]["image"].stem == "p042":
                raise ValueError("p042 is broken")
        return files
"""


def test_three_shards_on_ray_make_the_units_one_worker_makes(
    ray_cluster, make_plugin, tmp_path, synapse_home, store
):
    plugin = make_plugin(
        UPLOAD_CONFIG.format(code="upload-shards"), {"upload.py": UPLOADER}, name="upload-shards"
    )
    client = get_backend_client()
    write_pairs(tmp_path / "data", UNITS)
    one, sharded = pairs_collection(client, "one"), pairs_collection(client, "sharded")
    params = {"name": "shards", "path": str(tmp_path / "data"), "upload_batch_size": 7}

    single = run_action(plugin, "upload", {**params, "data_collection": one["id"]}, home=synapse_home).result
    proc = run_cli(
        "plugin", "run", "upload",
        json.dumps({**params, "data_collection": sharded["id"], "extra_params": {"num_shards": 3}}),
        cwd=plugin, env={**ray_cluster.env, "SYNAPSE_HOME": str(synapse_home)}, timeout=120,
    )  # fmt: skip

    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert (single["data_units"], single["data_units_failed"]) == (UNITS - 7, 7)  # p042's batch of 7 failed
    assert (result["data_units"], result["data_units_failed"], result["failed"]) == (UNITS - 7, 7, 14)
    assert (result["uploaded"], result["skipped"]) == (0, 2 * (UNITS - 7))  # the files are stored by then

    def units(collection: dict) -> list[tuple[str, dict]]:
        return sorted((unit["checksum"], unit["meta"]) for unit in units_of(client, collection["id"]))

    assert units(sharded) == units(one) and len(units(one)) == UNITS - 7
    job = next(r for r in store.list_runs() if r.params.get("extra_params"))
    logs = store.get_logs(job.id)
    assert any("Sharding the upload: 7 data unit(s) per Ray task" in (e.message or "") for e in logs)
    assert any("process_files failed: ValueError: p042 is broken" in (e.message or "") for e in logs)
    assert len([e for e in logs if e.event == "upload_file"]) == 2 * UNITS
