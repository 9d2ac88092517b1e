"""The neural_net template's ``deployment`` on the Ray test cluster: a Serve app with config.yaml's replicas.

The action deploys the plugin's REST app (``POST /inference`` with the registered digits model)
as a Ray Serve application with ``num_replicas: 2`` from ``config.yaml``; both replicas load the
model in ``setup()``, answer, and ``synapse job stop`` deletes the app.
"""

from __future__ import annotations

import json
import shutil

import httpx
import pytest

from synapse_sdk.backend.schemas import RunStatus
from tests.conftest import run_cli
from tests.execution.ray.helpers import wait_until
from tests.plugins.categories.neural_net.served_digits import (
    digits_model_file,
    digits_plugin,
    held_out,
    model_module,
    png_base64,
    registered_model,
)
from tests.ray_cluster import CLUSTER_ENV

__all__ = ["digits_model_file", "digits_plugin", "held_out", "model_module", "registered_model"]

pytestmark = [pytest.mark.ray, pytest.mark.slow]

REPLICAS = """\
    num_cpus: 0.25
    num_replicas: 2
"""


def running_replicas(dashboard: str, app: str, deployment: str) -> int:
    """How many replicas of ``app``'s ``deployment`` the dashboard reports RUNNING."""
    apps = httpx.get(f"{dashboard}/api/serve/applications/", timeout=10).json()["applications"]
    replicas = apps.get(app, {}).get("deployments", {}).get(deployment, {}).get("replicas", [])
    return sum(r.get("state") == "RUNNING" for r in replicas)


def test_deployment_on_ray_serves_the_model_with_the_configured_replicas(
    ray_cluster, digits_plugin, registered_model, held_out, synapse_home, store, tmp_path
) -> None:
    plugin = tmp_path / "digits"
    shutil.copytree(digits_plugin, plugin, ignore=shutil.ignore_patterns("__pycache__"))
    config = plugin / "config.yaml"
    text = config.read_text()
    anchor = (
        '    entrypoint: "plugin.inference.InferenceAction"\n    method: "restapi"  # job, task, restapi\n'
    )
    assert anchor in text
    config.write_text(text.replace(anchor, anchor + REPLICAS))
    params = {
        "model": registered_model["id"],
        "ray_address": ray_cluster.address,
        "port": ray_cluster.serve_port,
    }
    env = {**CLUSTER_ENV, "SYNAPSE_HOME": str(synapse_home)}

    deployed = run_cli("plugin", "run", "deployment", json.dumps(params), cwd=plugin, env=env, timeout=300)

    assert deployed.returncode == 0, deployed.stderr
    info = json.loads(deployed.stdout)
    serving = info["serving_run"]
    assert info["url"] == f"http://127.0.0.1:{ray_cluster.serve_port}/digits/0.1.0"
    assert running_replicas(ray_cluster.dashboard, "digits-0.1.0", "digits") == 2
    images, labels = held_out
    try:
        answers = [
            httpx.post(info["inference"], json={"image": png_base64(image)}, timeout=60).json()
            for image in images[:10]
        ]
        assert sum(a["class"] == label for a, label in zip(answers, labels[:10], strict=True)) >= 8
        assert {a["model"] for a in answers} == {registered_model["id"]}
        record = store.get_run(serving)
        assert record.status is RunStatus.RUNNING
        assert record.extra["ray"]["app"] == "digits-0.1.0"

        def both_replicas():  # type: ignore[no-untyped-def]
            starts = [e.data for e in store.get_logs(serving) if e.event == "replica_started"]
            return starts if len({s["replica"] for s in starts}) == 2 else None

        wait_until(both_replicas, what="two replica_started events")
    finally:
        stopped = run_cli("job", "stop", serving, env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert f"job {serving}: STOPPED" in stopped.stdout
    assert httpx.post(info["inference"], json={"image": png_base64(images[0])}, timeout=30).status_code == 404
