"""Ray workers report through the HTTP backend when ``SYNAPSE_HOST`` is set (workers on other hosts)."""

from __future__ import annotations

import json

import pytest

from synapse_sdk.backend.schemas import RunStatus
from synapse_sdk.backend.store.runs import RunStore
from tests.conftest import run_cli
from tests.execution.ray.helpers import set_action
from tests.servers import BackendServer

pytestmark = pytest.mark.ray


TOKEN = "backend-token-not-for-rays-eyes"


@pytest.mark.parametrize("method", ["job", "task"], ids=["job", "task"])
def test_ray_workers_report_to_it(method, ray_cluster, demo_plugin, synapse_home, tmp_path):
    set_action(demo_plugin, method)
    server = BackendServer(tmp_path / "server-home", token=TOKEN).start()
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
    assert run.extra["ray"]["kind"] == method
    assert run.metrics["training"] == {"loss": 0.5774}
    local = synapse_home / "synapse.db"
    assert not local.exists() or RunStore(local).list_runs() == []  # nothing went to the local store
    assert TOKEN not in what_ray_shows(ray_cluster)  # the token reached the workers beside the runtime env


def what_ray_shows(ray_cluster) -> str:  # type: ignore[no-untyped-def]
    """Everything Ray's dashboard and state API show about jobs and tasks, runtime envs included."""
    import httpx
    from ray.util.state import list_tasks

    jobs = httpx.get(f"{ray_cluster.dashboard}/api/jobs/").text
    tasks = list_tasks(address=ray_cluster.dashboard, detail=True, limit=1000, raise_on_missing_output=False)
    return jobs + repr(tasks)
