"""The tries of a job's action under one run, and the loop that tries it again (config.yaml ``retry``).

A supervisor (the local job's supervisor process, or a Ray job's driver) starts each try as a
worker process and records it in the run's ``attempts``; the worker ends its own try with the
run's end (succeeded, failed, stopped), and the supervisor ends the try of a worker that died
(crashed). Every try runs under the same run id and run folder, so what one try saved (a
checkpoint in ``run.path``) is there for the next; the action reads its try as ``run.attempt``.

::

    try n ─► worker ends the run ──────────────────────────► done (SUCCEEDED, FAILED, STOPPED)
      │
      ├──► worker died (kill -9, non-zero exit) ─┐
      └──► the action raised, ``on: [.., error]``┴─► retry.allows(...)? ─► try n + 1
                                                              └─ no ─► FAILED
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from synapse_sdk.backend.schemas import Attempt, AttemptOutcome, EventBatch, RunRecord, RunStatus
from synapse_sdk.execution import lifecycle
from synapse_sdk.execution.local.process import describe_exit, signal_name, start_fingerprint

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import RunsResource
    from synapse_sdk.execution.invocation import Invocation
    from synapse_sdk.plugins.config import RetryConfig

#: The worker's exit code for "the action raised and its retry policy tries it again": the run is
#: left active, the try recorded as failed (the sysexits code for a temporary failure).
RETRY_EXIT = 75
#: The outcome of a try that the run's end says, and the exit code of a worker that ends so.
ENDS: dict[RunStatus, tuple[AttemptOutcome, int]] = {
    RunStatus.SUCCEEDED: ("succeeded", 0),
    RunStatus.FAILED: ("failed", 1),
    RunStatus.STOPPED: ("stopped", 143),
}

#: Runs one try: start the worker for the invocation, call ``started(pid)`` once it runs, return
#: its exit code (negative: the signal that ended it).
WorkerRunner = Callable[["Invocation", Callable[[int], None]], int]


class AttemptFailed(Exception):
    """The action of a try raised and its run is left active to be tried again (the worker exits
    ``RETRY_EXIT``); the action's exception is the cause."""


def begun(attempts: list[Attempt], number: int, pid: int | None = None) -> list[dict[str, Any]]:
    """``attempts`` (as stored) with try ``number`` started now on this host by process ``pid``."""
    new = Attempt(number=number, started_at=time.time(), host=socket.gethostname(), pid=pid)
    return [a.model_dump() for a in attempts if a.number != number] + [new.model_dump()]


def ended(
    attempts: list[Attempt],
    outcome: AttemptOutcome,
    *,
    exit_code: int | None = None,
    error: str | None = None,
) -> list[dict[str, Any]]:
    """``attempts`` (as stored) with the last one ended by ``outcome`` now, unless it ended already.

    A negative ``exit_code`` is the signal that killed the worker, kept as ``signal`` too.
    """
    out = [a.model_dump() for a in attempts]
    if out and out[-1]["outcome"] is None:
        out[-1].update(finished_at=time.time(), outcome=outcome, exit_code=exit_code, error=error)
        if exit_code is not None and exit_code < 0:
            out[-1]["signal"] = signal_name(-exit_code)
    return out


def is_open(record: RunRecord) -> bool:
    """True if the run's last try has not ended (its worker ran, or runs, without saying how it ended)."""
    return bool(record.attempts) and record.attempts[-1].outcome is None


def end_fields(record: RunRecord, status: RunStatus, **how: Any) -> dict[str, Any]:
    """``{"attempts": ...}`` with the open last try of ``record`` ended as the run ends in ``status``
    (nothing when no try is open): what an end that is not the worker's own adds to its write."""
    if not is_open(record):
        return {}
    outcome = "crashed" if status is RunStatus.FAILED and how.get("exit_code") is None else ENDS[status][0]
    return {"attempts": ended(record.attempts, outcome, **how)}


def supervise(
    runs: RunsResource, invocation: Invocation, retry: RetryConfig, run_worker: WorkerRunner
) -> RunRecord:
    """Try the invocation's action until its run ends, at most ``retry.max_attempts`` times; the end record.

    Each try is a worker process (``run_worker``) told its number (``invocation.attempt``). A
    worker that ended its run ends the loop; one that died is tried again if the policy allows
    a crash, and one whose action raised (``RETRY_EXIT``) if it allows an error. Otherwise the
    run fails with why (``worker died: signal 9 (SIGKILL)``), or stops if a stop was asked.
    """
    run_id, number = invocation.run_id, 0
    record = runs.get_run(run_id)
    while True:
        number += 1
        prior = record.attempts

        def started(pid: int, prior: list[Attempt] = prior, number: int = number) -> None:
            runs.update(
                run_id, pid=pid, pid_started=start_fingerprint(pid), attempts=begun(prior, number, pid)
            )

        returncode = run_worker(replace(invocation, attempt=number), started)
        record = runs.get_run(run_id)
        if record.status.is_terminal:
            if is_open(record):  # ended before its action started (bad input): the worker said so in the run
                end = ENDS[record.status][0]
                runs.update(run_id, attempts=ended(record.attempts, end, exit_code=returncode))
            return runs.get_run(run_id)
        how = describe_exit(returncode)
        failed = returncode == RETRY_EXIT and not is_open(record)
        outcome: AttemptOutcome = "failed" if failed else "crashed"
        error = record.attempts[-1].error if failed else f"worker died: {how}"
        attempts = ended(record.attempts, outcome, exit_code=returncode, error=error)
        if record.stop_requested:
            lifecycle.stop(runs, run_id, f"stopped: worker ended by {how}", attempts=attempts)
            return runs.get_run(run_id)
        if retry.allows("error" if failed else "crash", number):
            _note(runs, run_id, f"attempt {number} of {retry.max_attempts} {outcome} ({error}); trying again")
            runs.update(run_id, attempts=attempts)
            record = runs.get_run(run_id)
            continue
        if number > 1:
            error = f"{error}; gave up after {number} attempts"
        lifecycle.fail(runs, run_id, error or "the action failed", attempts=attempts)
        return runs.get_run(run_id)


def retry_policy(invocation: Invocation) -> RetryConfig:
    """The ``retry`` of the invocation's action in its plugin's config.yaml (once: if it cannot be
    read, the worker reports why)."""
    from synapse_sdk.errors import SynapseError
    from synapse_sdk.plugins.config import PluginConfig, RetryConfig

    try:
        return PluginConfig.load(invocation.path).get_action(invocation.action).retry
    except SynapseError:
        return RetryConfig()


def begin_in_process(runs: RunsResource, invocation: Invocation) -> Invocation:
    """Record try 1 of a run whose action runs in this process (a Ray job's driver with no retry):
    the invocation that ends it with the run."""
    runs.update(invocation.run_id, attempts=begun([], 1, os.getpid()))
    return replace(invocation, attempt=1)


def _note(runs: RunsResource, run_id: str, message: str) -> None:
    """A warning in the run's log, from the supervisor."""
    runs.write_events(run_id, EventBatch(logs=[(time.time(), "WARNING", message, None, None)]))
