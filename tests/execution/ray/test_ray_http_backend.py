"""Ray workers report through the HTTP backend when ``SYNAPSE_HOST`` is set (workers on other hosts)."""

from __future__ import annotations

import json

import pytest

from synapse_sdk.backend.schemas import RunStatus
from synapse_sdk.backend.store.runs import RunStore
from tests.conftest import run_cli
from tests.servers import BackendServer

pytestmark = pytest.mark.ray


def test_ray_job_reports_through_the_http_backend(ray_cluster, demo_plugin, synapse_home, tmp_path):
    server = BackendServer(tmp_path / "server-home").start()
    try:
        env = {**ray_cluster.env, **server.client_env}
        params = json.dumps({"dataset_path": "/data", "epochs": 3})
        result = run_cli("plugin", "run", "train", params, "--path", str(demo_plugin), env=env)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["final_loss"] == 0.5774
        shown = run_cli("job", "list", "--json", env=server.client_env)
        (listed,) = json.loads(shown.stdout)
    finally:
        server.stop()
    run = RunStore(server.home / "synapse.db").get_run(listed["id"])
    assert run.status is RunStatus.SUCCEEDED
    assert run.extra["ray"]["kind"] == "job"
    assert run.metrics["training"] == {"loss": 0.5774}
    local = synapse_home / "synapse.db"
    assert not local.exists() or RunStore(local).list_runs() == []  # nothing went to the local store
