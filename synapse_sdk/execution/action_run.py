"""Drive an action through its run: the start mark, ``start()``, its result, the end recorded.

Every way of running an action ends here: ``Action.run_action()`` used programmatically, a
local worker, an in-process run, a Ray job's driver and a Ray task. The executor attaches the
run (``action.run``) and names the store the run's states go to; the run's states change only
through :mod:`synapse_sdk.execution.lifecycle`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from synapse_sdk.backend.schemas import RunStatus
from synapse_sdk.errors import ActionStopped, SynapseError
from synapse_sdk.execution import lifecycle
from synapse_sdk.execution.attempts import ENDS, RETRY_EXIT, AttemptFailed, ended

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import RunsResource
    from synapse_sdk.plugins.categories.base import Action
    from synapse_sdk.plugins.run.run import Run

#: Receives a run's end (status and fields) instead of the store: a Ray task's owner keeps the
#: run's books (it created the run and is the one that can stop it) and stores the end itself.
EndRecorder = Callable[[str, dict[str, Any]], None]


def run_attached(
    action: Action,
    runs: RunsResource,
    *,
    claim: bool = True,
    end_recorder: EndRecorder | None = None,
    attempt: int | None = None,
    retry_error: bool = False,
) -> Any:
    """Run ``action.start()`` as ``action.run`` and record it: RUNNING, then SUCCEEDED, FAILED or STOPPED.

    With ``claim`` the run must be PENDING (it is created when it does not exist yet: the
    programmatic use). With an ``end_recorder`` whoever set it vouches for the run: nothing is
    checked before the action starts and the end goes to it. ``attempt``: the try of the run a
    supervisor recorded (see :mod:`~synapse_sdk.execution.attempts`), ended here with the run;
    with ``retry_error`` an action that raises (bad input aside) leaves the run active for the
    next try, its try failed, and ``AttemptFailed`` is raised from its exception.
    """
    run = action.run
    if claim and end_recorder is None:
        lifecycle.claim(runs, run.id, lambda: new_run_for(action), attempt)
    run.mark_started(lifecycle.started_fields())  # a later try's: stored only if no try got to start
    try:
        result = action.start()
        if isinstance(result, CoroutineType):
            import asyncio

            result = asyncio.run(result)
        result = as_json(result)
    except ActionStopped:
        run.log_message("stopped on request", "WARNING")
        _end(run, runs, end_recorder, RunStatus.STOPPED, attempt, error="stopped on request")
        raise
    except BaseException as exc:
        message = f"{type(exc).__name__}: {exc}"
        run.log_message(f"action failed: {message}", "ERROR")
        if retry_error and attempt is not None and getattr(exc, "exit_code", 1) != 2:
            _leave_for_retry(run, runs, message)
            raise AttemptFailed(message) from exc
        _end(run, runs, end_recorder, RunStatus.FAILED, attempt, error=message)
        raise
    _end(run, runs, end_recorder, RunStatus.SUCCEEDED, attempt, result=result)
    return result


def _end(
    run: Run,
    runs: RunsResource,
    end_recorder: EndRecorder | None,
    status: RunStatus,
    attempt: int | None,
    **fields: Any,
) -> None:
    started = run.close() or {}  # every event is stored before the end
    if attempt is not None and attempt > 1:
        started.pop("started_at", None)  # the run started with an earlier try
    end = {"finished_at": time.time(), "lost_events": run.lost, **started, **masked_end(run, fields)}
    if attempt is not None:
        outcome, code = ENDS[status]
        try:
            tries = runs.get_run(run.id).attempts
        except SynapseError:  # a backend out of reach: the supervisor ends the try once the worker exits
            tries = []
        if tries:
            end["attempts"] = ended(tries, outcome, exit_code=code, error=end.get("error"))
    if end_recorder is not None:
        end_recorder(status, end)
    else:
        lifecycle.end(runs, run.id, status, **end)


def _leave_for_retry(run: Run, runs: RunsResource, message: str) -> None:
    """The action raised and will be tried again: its events stored, its try failed, the run active."""
    run.close()
    error = masked_end(run, {"error": message})["error"]
    tries = runs.get_run(run.id).attempts
    runs.update(run.id, attempts=ended(tries, "failed", exit_code=RETRY_EXIT, error=error))


def masked_end(run: Run, fields: dict[str, Any]) -> dict[str, Any]:
    """The end's ``error`` and ``result`` storable (no lone surrogate, no NaN) and masked with the
    run's secrets: an exception's text or a returned value may quote a password from the params."""
    from synapse_sdk.plugins.run.sanitise import clean_result, clean_text

    masker = run.masker
    if isinstance(fields.get("error"), str):
        fields["error"] = masker.text(clean_text(fields["error"]))
    if fields.get("result") is not None:
        fields["result"] = masker.value(clean_result(fields["result"]))
    return fields


def new_run_for(action: Action, *, is_job: bool = False) -> Any:
    """The record of an action's run, for a run created where it starts (params and envs redacted)."""
    return lifecycle.new_run(
        action.run.id,
        action.name or type(action).__name__,
        action.plugin_config,
        action.raw_params,
        action.envs,
        category=action.category,
        is_job=is_job,
        extra={"folder": str(action.run.folder)},
    )


def run_programmatic(action: Action) -> Any:
    """``Action.run_action()``: run it here as its run (by default a new one), recorded in the
    configured backend."""
    from synapse_sdk.backend import get_backend

    return run_attached(action, get_backend().runs)


def default_run(action: Action, runs: RunsResource, run_id: str | None = None) -> Run:
    """A run of ``action`` that reports to ``runs``, its secrets masked, its folder under ``SYNAPSE_HOME``."""
    import uuid

    from synapse_sdk._redact import secret_values
    from synapse_sdk.plugins.run.run import Run
    from synapse_sdk.plugins.run.sinks import BackendSink

    return Run(
        run_id or action.requested_run_id or uuid.uuid4().hex[:16],
        [BackendSink(runs)],
        secrets=lambda: secret_values(action.raw_params, action.envs),
        progress_categories=action.progress_categories,
    )


def as_json(value: Any) -> Any:
    """``value`` as it comes back from JSON (what the run stores): tuples become lists, dates text.

    A value made only of JSON's own types comes back as itself, without the round trip.
    """
    if _is_json(value):
        return value
    return json.loads(json.dumps(value, default=str))


def _is_json(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return True
    if kind is dict:
        return all(type(k) is str and _is_json(v) for k, v in value.items())
    if kind is list:
        return all(_is_json(v) for v in value)
    return False
