"""The run lifecycle: the only code that creates runs and changes their status.

::

    create ─► PENDING ──start mark──► RUNNING ──finish──► SUCCEEDED
                 │                       ├──fail─────► FAILED
                 ├─fail before start─►   ├──stop─────► STOPPED
                 └─stop / lost ──────►   └──lost─────► FAILED, or STOPPED when a stop was asked

Every change is compare-and-set from the active states (``UPDATE ... WHERE status IN
(PENDING, RUNNING)``), so a run ends once and a late writer changes nothing. The start mark
usually travels in the run's first event batch (``Run.mark_started``), beside the action,
and a run that ends before that batch carries it in its final write (``end``).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from synapse_sdk._redact import Masker, mask_urls, redact, secret_values
from synapse_sdk.backend.schemas import ACTIVE, NewRun, RunRecord, RunStatus
from synapse_sdk.errors import ActionStopped, RunConflict

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import RunsResource
    from synapse_sdk.plugins.config import PluginConfig

_HOST = socket.gethostname()
_PENDING = (RunStatus.PENDING,)


def new_run(
    run_id: str,
    action: str,
    config: PluginConfig | None,
    params: dict[str, Any],
    envs: dict[str, str],
    *,
    category: str | None = None,
    is_job: bool = False,
    method: str | None = None,
    extra: dict[str, Any] | None = None,
) -> NewRun:
    """The record a run is created with; params and envs are redacted: the values of secret keys,
    URL passwords, and any other value quoting one of those.

    ``extra`` adds to what the record's ``extra`` holds (the envs), e.g. where the run executes.
    """
    masker = Masker(secret_values(params, envs))
    category = category or (config.category if config else None)
    if method is None and config is not None and action in config.actions:
        method = config.actions[action].method
    return NewRun(
        id=run_id,
        action=action,
        plugin_code=config.code if config else None,
        plugin_version=config.version if config else None,
        category=getattr(category, "value", category),
        method=method,
        params=masker.value(redact(params)),
        is_job=is_job,
        extra={"envs": masker.value(redact(envs)), **(extra or {})} if envs else dict(extra or {}),
    )


def create(runs: RunsResource, new: NewRun) -> RunRecord:
    """Create the run PENDING; an id that is taken is a ``RunConflict`` (unless it is this run,
    created PENDING while its environment was built: see ``execution.environment``)."""
    try:
        return runs.create_run(new)
    except RunConflict:
        from synapse_sdk.execution.environment import adopt

        adopted = adopt(runs, new)
        if adopted is None:
            raise
        return adopted


def claim(runs: RunsResource, run_id: str, make: Callable[[], NewRun], attempt: int | None = None) -> None:
    """Make sure run ``run_id`` exists and is PENDING before it starts: create it (``make()``) if absent.

    One read when an executor created it; a run that ended or started already cannot start
    (``RunConflict``): e.g. a job stopped before its worker came up. A later try of a retried
    run (``attempt`` > 1) finds it active instead (RUNNING since its first try), its stop not asked.
    """
    if attempt is not None and attempt > 1:
        record = runs.get_run(run_id)
        if record.status not in ACTIVE:
            raise RunConflict(f"run {run_id!r} is {record.status.value}; attempt {attempt} cannot start")
        if record.stop_requested:  # asked between two tries
            stop(runs, run_id, f"stopped before attempt {attempt} started")
            raise ActionStopped()
        return
    status = runs.run_status(run_id)
    if status is None:
        try:
            runs.create_run(make())
            return
        except RunConflict:  # created meanwhile by someone else
            status = runs.run_status(run_id)
    if status is not RunStatus.PENDING:
        shown = status.value if status else "gone"
        raise RunConflict(f"run {run_id!r} is {shown}, not PENDING; it cannot start")


def started_fields(**more: Any) -> dict[str, Any]:
    """What the start of a run records: when, where and which process."""
    now = time.time()
    return {"started_at": now, "heartbeat_at": now, "host": _HOST, "pid": os.getpid(), **more}


def mark_started(runs: RunsResource, run_id: str, **fields: Any) -> bool:
    """PENDING -> RUNNING now, with ``started_fields()`` and ``fields`` (for runs that record no
    events before they start, such as serving runs); True if it moved."""
    return runs.transition(run_id, _PENDING, RunStatus.RUNNING, **started_fields(**fields))


def end(runs: RunsResource, run_id: str, status: RunStatus | str, **fields: Any) -> bool:
    """Move an active run to the terminal ``status`` with ``fields``; False if it had ended already.

    URL passwords in the ``error`` are masked, whoever wrote it (the run's own secrets are masked
    by whoever knows them: ``action_run`` and the worker).
    """
    fields.setdefault("finished_at", time.time())
    if isinstance(fields.get("error"), str):
        fields["error"] = mask_urls(fields["error"])
    return runs.transition(run_id, ACTIVE, RunStatus(status), **fields)


def finish(runs: RunsResource, run_id: str, result: Any, **fields: Any) -> bool:
    """The action returned ``result``: SUCCEEDED."""
    return end(runs, run_id, RunStatus.SUCCEEDED, result=result, **fields)


def fail(runs: RunsResource, run_id: str, error: str, **fields: Any) -> bool:
    """The action or its worker failed with ``error``: FAILED."""
    return end(runs, run_id, RunStatus.FAILED, error=error, **fields)


def stop(runs: RunsResource, run_id: str, error: str, **fields: Any) -> bool:
    """The run was stopped (``error`` says how): STOPPED."""
    return end(runs, run_id, RunStatus.STOPPED, error=error, **fields)


def fail_before_start(
    runs: RunsResource, run_id: str, error: str, exit_code: int, secrets: Iterable[str] = ()
) -> bool:
    """A run that could not even start (bad config, bad params, an import error) ends with its reason.

    The exit code is kept in the run's ``extra``, so that a CLI following the job exits like one
    that checked the input itself (2 for bad input). A run that started has recorded its own end.
    ``secrets`` (the run's, from its params and envs) are masked in ``error``.
    """
    record = runs.get_run(run_id)
    if record.status not in ACTIVE:
        return False
    from synapse_sdk.execution.attempts import end_fields
    from synapse_sdk.plugins.run.sanitise import clean_text

    error = Masker(secrets).text(clean_text(error))
    tried = end_fields(record, RunStatus.FAILED, exit_code=exit_code, error=error)
    return fail(runs, run_id, error, extra={**record.extra, "exit_code": exit_code}, **tried)


def request_stop(runs: RunsResource, run_id: str) -> None:
    """Note that a stop was asked for: the worker's next flush hears it, and a lost run ends STOPPED."""
    runs.update(run_id, stop_requested=1)


def declare_lost(
    runs: RunsResource, record: RunRecord, reason: str, status: RunStatus | None = None
) -> RunRecord:
    """Whatever ran ``record`` is gone: ``status`` with ``reason`` (default FAILED, STOPPED if a stop
    was asked)."""
    from synapse_sdk.execution.attempts import end_fields

    if status is None:
        status = RunStatus.STOPPED if record.stop_requested else RunStatus.FAILED
    end(runs, record.id, status, error=reason, **end_fields(record, status, error=reason))
    return runs.get_run(record.id)
