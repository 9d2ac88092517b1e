"""Ray settings checked without a cluster: addresses, Serve scaling from config.yaml, no eager import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from synapse_sdk.errors import ConfigError, UsageError
from synapse_sdk.execution.ray.cluster import split_address
from synapse_sdk.execution.serving.ray_serve import app_name, deployment_options, route_prefix
from synapse_sdk.plugins.config import PluginConfig

BASE = {"code": "scorer", "name": "Scorer", "version": "2.1.0", "category": "neural_net"}


def _config(**actions):  # type: ignore[no-untyped-def]
    return PluginConfig.from_dict({**BASE, "actions": actions})


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1:6380", ("", "127.0.0.1", 6380)),
        ("head-node", ("", "head-node", 6379)),
        ("ray://head:10001", ("ray", "head", 10001)),
        ("http://127.0.0.1:8265/", ("http", "127.0.0.1", 8265)),
    ],
    ids=["gcs", "default-port", "client", "dashboard"],
)
def test_ray_addresses(address, expected):
    assert split_address(address) == expected


@pytest.mark.parametrize("address", ["127.0.0.1:port", "ftp://h:1", ":6379"], ids=["port", "scheme", "host"])
def test_bad_ray_addresses_say_what_is_expected(address):
    with pytest.raises(UsageError, match="expected HOST:PORT like '127.0.0.1:6379'"):
        split_address(address)


def test_serve_app_per_plugin_version_with_scaling_from_config():
    config = _config(
        score={"entrypoint": "plugin.a.A", "method": "restapi", "num_replicas": 2, "num_cpus": 0.5},
        embed={"entrypoint": "plugin.a.B", "method": "restapi", "num_gpus": 1},
        train={"entrypoint": "plugin.a.C", "method": "job", "num_cpus": 8},
    )
    assert app_name(config) == "scorer-2.1.0" and route_prefix(config) == "/scorer/2.1.0"
    assert deployment_options(config) == {
        "num_replicas": 2,
        "ray_actor_options": {"num_cpus": 0.5, "num_gpus": 1},
    }
    assert deployment_options(config, num_cpus=2)["ray_actor_options"]["num_cpus"] == 2


def test_autoscaling_from_config():
    config = _config(score={"entrypoint": "plugin.a.A", "method": "restapi",
                            "autoscaling": {"min_replicas": 1, "max_replicas": 4}})  # fmt: skip
    assert deployment_options(config) == {
        "autoscaling_config": {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 2.0},
        "ray_actor_options": {},
    }


def test_scaling_config_errors_name_the_key():
    with pytest.raises(ConfigError) as err:
        _config(score={"entrypoint": "plugin.a.A", "method": "restapi", "num_replicas": 2,
                       "autoscaling": {"max_replicas": 2, "max_replica": 3}})  # fmt: skip
    assert "actions.score.autoscaling.max_replica: unknown key (did you mean 'max_replicas'?)" in str(
        err.value
    )


def test_running_a_local_action_never_imports_ray(make_plugin, synapse_home):
    plugin = make_plugin(
        """\
        code: quick
        name: Quick
        version: 0.1.0
        category: neural_net
        actions:
          check:
            entrypoint: plugin.check.Check
            method: task
        """,
        {"check.py": "from synapse_sdk.plugins.categories.base import Action\n\n"
                     "class Check(Action):\n    def start(self):\n        return 1\n"},
    )  # fmt: skip
    code = (
        "import sys\nfrom synapse_sdk.cli import main\n"
        f"try:\n    main(['plugin', 'run', 'check', '--path', {str(plugin)!r}])\n"
        "except SystemExit:\n    pass\n"
        "print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines() == ["1", "False"], out.stderr


@pytest.mark.parametrize(("silent", "expected"), [(5, "RUNNING"), (100, "FAILED")], ids=["fresh", "silent"])
def test_ray_job_on_an_unreachable_cluster_is_lost_only_when_silent(store, silent, expected):
    import time

    from synapse_sdk.backend.schemas import NewRun, RunStatus
    from synapse_sdk.execution.base import reconcile
    from tests.servers import free_port

    ray_info = {"address": f"127.0.0.1:{free_port()}", "kind": "job", "submission_id": "gone"}
    store.create_run(NewRun(id="gone", action="train", is_job=True, extra={"ray": ray_info}))
    now = time.time()
    store.transition("gone", [RunStatus.PENDING], RunStatus.RUNNING, started_at=now - silent,
                     heartbeat_at=now - silent)  # fmt: skip
    record = reconcile(store, store.get_run("gone"))
    assert record.status.value == expected
    if expected == "FAILED":
        assert record.error.startswith("worker lost: Ray cluster unreachable and no heartbeat for")


def test_a_redeploy_ends_the_serving_runs_it_replaced(store):
    from synapse_sdk.backend.schemas import NewRun
    from synapse_sdk.execution.serving.ray_serve import end_replaced

    runs = (("serve-old", "scorer-2.1.0"), ("serve-other", "other-1.0.0"), ("serve-new", "scorer-2.1.0"))
    for run_id, app in runs:
        store.create_run(NewRun(id=run_id, action="serve", extra={"ray": {"kind": "serve", "app": app}}))
    end_replaced(store, "scorer-2.1.0", "serve-new")
    assert store.get_run("serve-old").status.value == "STOPPED"
    assert store.get_run("serve-old").error == "stopped: replaced by serving run serve-new"
    assert store.get_run("serve-other").status.value == "PENDING"
    assert store.get_run("serve-new").status.value == "PENDING"
