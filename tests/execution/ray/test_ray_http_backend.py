"""Ray workers report through the HTTP backend when ``SYNAPSE_HOST`` is set (workers on other hosts)."""

from __future__ import annotations

import json

import pytest

from synapse_sdk.backend.schemas import RunStatus
from synapse_sdk.backend.store.runs import RunStore
from tests.conftest import run_cli
from tests.execution.ray.helpers import set_action, wait_until
from tests.execution.ray.test_ray_serve import CONFIG as SERVE_CONFIG
from tests.execution.ray.test_ray_serve import SOURCE as SERVE_SOURCE
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
    shown = what_ray_shows(ray_cluster)
    assert server.client_env["SYNAPSE_HOST"] in shown  # Ray shows the runtime env, backend address and all...
    assert TOKEN not in shown  # ...but the token reached the workers beside it


def test_ray_serve_replicas_report_to_it(ray_cluster, make_plugin, synapse_home, tmp_path):
    import httpx

    plugin = make_plugin(SERVE_CONFIG, {"score.py": SERVE_SOURCE})
    server = BackendServer(tmp_path / "server-home", token=TOKEN).start()
    env = {**ray_cluster.env, **server.client_env}
    try:
        deployed = run_cli(
            "plugin", "run", "serve", "--path", str(plugin), "--port", str(ray_cluster.serve_port),
            env=env, timeout=240,
        )  # fmt: skip
        assert deployed.returncode == 0, deployed.stderr
        info = json.loads(deployed.stdout)
        try:
            reply = httpx.post(f"{info['url']}/score", json={"text": "hello"}, timeout=30)
            assert reply.status_code == 200, reply.text
            store = RunStore(server.home / "synapse.db")

            def requests():  # type: ignore[no-untyped-def]
                return (store.get_run(info["run_id"]).metrics.get("requests") or {}).get("total")

            assert wait_until(requests, what="the replica's request metrics") == 1
            run = store.get_run(info["run_id"])
            assert run.status is RunStatus.RUNNING and run.extra["ray"]["kind"] == "serve"
            assert [e.event for e in store.get_logs(run.id) if e.event == "replica_started"]
        finally:
            stopped = run_cli("job", "stop", info["run_id"], env=env)
        assert stopped.returncode == 0, stopped.stderr
        assert store.get_run(info["run_id"]).status is RunStatus.STOPPED
    finally:
        server.stop()
    local = synapse_home / "synapse.db"
    assert not local.exists() or RunStore(local).list_runs() == []
    shown = what_serve_shows(ray_cluster)
    assert server.client_env["SYNAPSE_HOST"] in shown  # the replicas' runtime env is on show...
    assert TOKEN not in shown + what_ray_shows(ray_cluster)  # ...and the token is not in it


def what_serve_shows(ray_cluster) -> str:  # type: ignore[no-untyped-def]
    """What Ray's dashboard shows of Serve applications and of actors (replicas among them)."""
    import httpx
    from ray.util.state import list_actors

    apps = httpx.get(f"{ray_cluster.dashboard}/api/serve/applications/").text
    actors = list_actors(
        address=ray_cluster.dashboard, detail=True, limit=1000, raise_on_missing_output=False
    )
    return apps + repr(actors)


def what_ray_shows(ray_cluster) -> str:  # type: ignore[no-untyped-def]
    """Everything Ray's dashboard and state API show about jobs and tasks, runtime envs included."""
    import httpx
    from ray.util.state import list_tasks

    jobs = httpx.get(f"{ray_cluster.dashboard}/api/jobs/").text
    tasks = list_tasks(address=ray_cluster.dashboard, detail=True, limit=1000, raise_on_missing_output=False)
    return jobs + repr(tasks)
