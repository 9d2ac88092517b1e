"""Retried jobs on this machine: a killed worker is tried again under the same run and resumes.

The toy ``count`` action (``retry_plugin.py``) checkpoints each step in ``run.path`` and starts
from its checkpoint; the tests kill its worker with SIGKILL mid-way, as a crash would.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from synapse_sdk.backend.schemas import RunStatus
from tests.conftest import run_cli
from tests.execution.retry_plugin import SOURCE, config


def wait_for(store, run_id, predicate, timeout=30.0):
    """The run's record (reconciled, as ``synapse job get`` does) once ``predicate`` holds."""
    from synapse_sdk.execution.base import reconcile

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = reconcile(store, store.get_run(run_id))
        if predicate(record):
            return record
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never got there: {store.get_run(run_id)}")


def submit(plugin, run_id, **params):
    proc = run_cli("plugin", "run", "count", json.dumps(params), "--job-id", run_id, cwd=plugin)
    assert proc.returncode == 0, proc.stderr


def kill_attempt(store, run_id, number, after_step):
    """SIGKILL the worker of try ``number`` once it has checkpointed ``after_step`` steps."""
    record = wait_for(
        store, run_id,
        lambda r: len(r.attempts) == number and r.progress.get("steps", {}).get("current", 0) >= after_step,
    )  # fmt: skip
    os.kill(record.attempts[-1].pid, signal.SIGKILL)
    return int(record.progress["steps"]["current"])


def test_a_killed_job_is_tried_again_under_the_same_run_and_resumes_from_its_checkpoint(make_plugin, store):
    plugin = make_plugin(config("{max_attempts: 3}"), {"count.py": SOURCE})
    submit(plugin, "resume-1", steps=30, sleep=0.05)
    killed_at = kill_attempt(store, "resume-1", 1, after_step=3)

    record = wait_for(store, "resume-1", lambda r: r.status.is_terminal)
    assert record.status is RunStatus.SUCCEEDED, record.error
    assert record.result["attempt"] == 2
    assert killed_at <= record.result["resumed_after"] < 30  # from the checkpoint, not from 0
    first, second = record.attempts
    assert (first.number, first.outcome, first.exit_code, first.signal) == (1, "crashed", -9, "SIGKILL")
    assert first.error == "worker died: signal 9 (SIGKILL)"
    assert (second.number, second.outcome, second.exit_code) == (2, "succeeded", 0)
    assert first.pid != second.pid
    assert first.started_at <= first.finished_at <= second.started_at <= second.finished_at
    assert first.started_at <= record.started_at <= first.finished_at  # one run, started by its first try
    assert record.error is None
    messages = [e.message for e in store.get_logs("resume-1")]
    assert messages[0] == "attempt 1 resumes after step 0"
    assert "attempt 1 of 3 crashed (worker died: signal 9 (SIGKILL)); trying again" in messages
    assert f"attempt 2 resumes after step {record.result['resumed_after']}" in messages

    shown = json.loads(run_cli("job", "get", "resume-1", "--json").stdout)
    assert [(a["number"], a["outcome"], a["signal"]) for a in shown["attempts"]] == [
        (1, "crashed", "SIGKILL"), (2, "succeeded", None),
    ]  # fmt: skip
    assert shown["attempts"][0]["started_at"].endswith("+00:00")
    text = run_cli("job", "get", "resume-1").stdout
    assert "attempt 1    crashed" in text and "signal 9 (SIGKILL)" in text
    assert "attempt 2    succeeded" in text


def test_the_run_fails_once_every_attempt_crashed_and_lists_them_all(make_plugin, store):
    plugin = make_plugin(config("{max_attempts: 2}"), {"count.py": SOURCE})
    submit(plugin, "exhaust-1", steps=100, sleep=0.05)
    kill_attempt(store, "exhaust-1", 1, after_step=1)
    kill_attempt(store, "exhaust-1", 2, after_step=2)

    record = wait_for(store, "exhaust-1", lambda r: r.status.is_terminal)
    assert record.status is RunStatus.FAILED
    assert record.error == "worker died: signal 9 (SIGKILL); gave up after 2 attempts"
    assert [(a.number, a.outcome, a.signal) for a in record.attempts] == [
        (1, "crashed", "SIGKILL"), (2, "crashed", "SIGKILL"),
    ]  # fmt: skip
    assert all(a.finished_at for a in record.attempts)


def test_a_job_with_no_retry_policy_fails_at_its_first_crash_as_before(make_plugin, store):
    plugin = make_plugin(config("{}"), {"count.py": SOURCE})
    submit(plugin, "once-1", steps=100, sleep=0.05)
    kill_attempt(store, "once-1", 1, after_step=1)

    record = wait_for(store, "once-1", lambda r: r.status.is_terminal)
    assert (record.status, record.error) == (RunStatus.FAILED, "worker died: signal 9 (SIGKILL)")
    assert [(a.number, a.outcome) for a in record.attempts] == [(1, "crashed")]


@pytest.mark.parametrize(
    ("retry", "status", "outcomes"),
    [
        ("{max_attempts: 3}", "FAILED", ["failed"]),
        ("{max_attempts: 3, on: [crash, error]}", "SUCCEEDED", ["failed", "failed", "succeeded"]),
        ("{max_attempts: 2, on: [crash, error]}", "FAILED", ["failed", "failed"]),
    ],
    ids=["errors-not-retried-by-default", "errors-retried-when-asked", "errors-retried-until-exhausted"],
)
def test_an_action_that_raises_is_tried_again_only_when_the_policy_says_error(
    make_plugin, store, retry, status, outcomes
):
    plugin = make_plugin(config(retry), {"count.py": SOURCE})
    submit(plugin, "flaky-1", steps=2, raise_before_attempt=3)

    record = wait_for(store, "flaky-1", lambda r: r.status.is_terminal)
    assert record.status == status
    assert [a.outcome for a in record.attempts] == outcomes
    failed = [a for a in record.attempts if a.outcome == "failed"]
    assert [a.error for a in failed] == [
        f"RuntimeError: flaky failure in attempt {i + 1}" for i in range(len(failed))
    ]
    if status == "FAILED":
        assert record.error.startswith(f"RuntimeError: flaky failure in attempt {len(outcomes)}")
    else:
        assert record.result == {"attempt": 3, "resumed_after": 0} and record.error is None


def test_bad_input_is_never_tried_again(make_plugin, store):
    plugin = make_plugin(config("{max_attempts: 3, on: [crash, error]}"), {"count.py": SOURCE})
    refused = run_cli("plugin", "run", "count", '{"steps": "many"}', "--job-id", "bad-1", cwd=plugin)
    assert refused.returncode == 2  # refused at the door: no run, nothing to retry
    assert "steps" in refused.stderr and store.list_runs() == []

    submit(plugin, "bad-2", dataset=404)  # bad input the action finds itself
    record = wait_for(store, "bad-2", lambda r: r.status.is_terminal)
    assert record.status is RunStatus.FAILED
    assert record.error.startswith("ParamsError: dataset: no dataset 404")
    assert [(a.number, a.outcome, a.exit_code) for a in record.attempts] == [(1, "failed", 1)]


def test_a_stop_reaches_the_attempt_that_runs_now(make_plugin, store):
    plugin = make_plugin(config("{max_attempts: 3}"), {"count.py": SOURCE})
    submit(plugin, "stop-1", steps=200, sleep=0.05)
    kill_attempt(store, "stop-1", 1, after_step=1)
    wait_for(store, "stop-1", lambda r: len(r.attempts) == 2 and r.progress["steps"]["current"] > 1)
    stopped = run_cli("job", "stop", "stop-1", "--grace", "5")
    assert "job stop-1: STOPPED" in stopped.stdout, stopped.stderr
    record = store.get_run("stop-1")
    assert [a.outcome for a in record.attempts] == ["crashed", "stopped"]


def test_attempts_travel_through_the_http_backend(make_plugin, backend_server, tmp_path):
    from synapse_sdk.backend.http import HttpBackend

    plugin = make_plugin(config("{max_attempts: 2}"), {"count.py": SOURCE})
    env = {**backend_server.client_env, "SYNAPSE_HOME": str(tmp_path / "worker-home")}
    proc = run_cli("plugin", "run", "count", '{"steps": 30, "sleep": 0.05}', "--job-id", "http-1", cwd=plugin,
                   env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with HttpBackend(backend_server.url, backend_server.token) as http:
        kill_attempt(http.runs, "http-1", 1, after_step=2)
        record = wait_for(http.runs, "http-1", lambda r: r.status.is_terminal)
        assert record.status is RunStatus.SUCCEEDED, record.error
        assert [(a.number, a.outcome) for a in record.attempts] == [(1, "crashed"), (2, "succeeded")]
    shown = json.loads(run_cli("job", "get", "http-1", "--json", env=env).stdout)
    assert [a["outcome"] for a in shown["attempts"]] == ["crashed", "succeeded"]
