"""Retried jobs on the Ray test cluster: the driver supervises each try, a killed worker resumes."""

from __future__ import annotations

import json
import os
import signal

import pytest

from synapse_sdk.backend.schemas import RunStatus
from tests.conftest import run_cli
from tests.execution.ray.helpers import wait_for_end, wait_until
from tests.execution.retry_plugin import SOURCE, config

pytestmark = pytest.mark.ray


def _submit(ray_cluster, plugin, run_id, **params):
    proc = run_cli("plugin", "run", "count", json.dumps(params), "--path", str(plugin), "--job-id", run_id,
                   env=ray_cluster.env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_a_killed_worker_of_a_ray_job_is_tried_again_and_resumes(ray_cluster, make_plugin, store):
    plugin = make_plugin(config("{max_attempts: 3}"), {"count.py": SOURCE})
    _submit(ray_cluster, plugin, "ray-resume-1", steps=40, sleep=0.1)
    record = wait_until(
        lambda: (r := store.get_run("ray-resume-1")).progress.get("steps", {}).get("current", 0) >= 3 and r,
        90, "the first try to checkpoint 3 steps",
    )  # fmt: skip
    (first,) = record.attempts
    os.kill(first.pid, signal.SIGKILL)  # the cluster runs on this machine: its worker is a process here

    record = wait_for_end(store, "ray-resume-1")
    assert record.status is RunStatus.SUCCEEDED, record.error
    assert record.extra["ray"]["submission_id"] == "ray-resume-1"  # one Ray job, one run
    assert record.result["attempt"] == 2
    assert 3 <= record.result["resumed_after"] < 40
    assert [(a.number, a.outcome, a.signal) for a in record.attempts] == [
        (1, "crashed", "SIGKILL"), (2, "succeeded", None),
    ]  # fmt: skip
    shown = json.loads(run_cli("job", "get", "ray-resume-1", "--json").stdout)
    assert [a["outcome"] for a in shown["attempts"]] == ["crashed", "succeeded"]


def test_a_ray_job_with_no_retry_records_its_one_attempt(ray_cluster, make_plugin, store):
    plugin = make_plugin(config("{}"), {"count.py": SOURCE})
    _submit(ray_cluster, plugin, "ray-once-1", steps=2)
    record = wait_for_end(store, "ray-once-1")
    assert record.status is RunStatus.SUCCEEDED, record.error
    assert [(a.number, a.outcome, a.exit_code) for a in record.attempts] == [(1, "succeeded", 0)]


def test_a_retried_ray_job_stops_on_request(ray_cluster, make_plugin, store):
    plugin = make_plugin(config("{max_attempts: 3}"), {"count.py": SOURCE})
    _submit(ray_cluster, plugin, "ray-stop-1", steps=600, sleep=0.1)
    wait_until(lambda: store.get_run("ray-stop-1").progress, 90, "the job to report progress")
    stopped = run_cli("job", "stop", "ray-stop-1", "--grace", "5")
    assert "job ray-stop-1: STOPPED" in stopped.stdout, stopped.stderr
    record = store.get_run("ray-stop-1")
    assert record.error == "stopped on request"
    assert [a.outcome for a in record.attempts] == ["stopped"]  # not tried again
