"""``/runs``: create, update and transition runs; batched events; logs and metric history."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response  # noqa: TID253 - server-only module
from pydantic import BaseModel, Field, StringConstraints

from synapse_sdk.backend.schemas import RUN_ID, EventBatch, EventsIn, Label, NewRun, RunFields, RunStatus
from synapse_sdk.backend.server.routes.bodies import StrictJsonRoute
from synapse_sdk.backend.store.runs import RunStore
from synapse_sdk.errors import RunNotFound


def _run_id(run_id: str) -> str:
    """The run id of the path; one no run can have (``../x``, 2 MB long) is a 404 like any unknown."""
    if RUN_ID.fullmatch(run_id) is None:
        shown = run_id if len(run_id) <= 40 else run_id[:37] + "..."
        raise RunNotFound(
            f"no run or job with id {shown!r}: run ids are 1-128 letters, digits, '.', '_' or '-'"
        )
    return run_id


RunId = Annotated[str, Depends(_run_id)]
router = APIRouter(prefix="/runs", tags=["runs"], route_class=StrictJsonRoute)

#: How many event-batch ids are remembered to ignore a retried post the server already stored.
SEEN_BATCHES = 10_000


class TransitionIn(BaseModel):
    """Compare-and-set: move to ``new`` only from one of ``expected``, setting ``fields``."""

    expected: list[RunStatus] = Field(max_length=len(RunStatus))
    new: RunStatus
    fields: RunFields = Field(default_factory=RunFields)


class UpdateIn(BaseModel):
    """Bookkeeping fields to set without touching the status."""

    fields: RunFields


class EventsBody(EventsIn):
    """One ``EventBatch`` as JSON (see ``synapse_sdk.backend.http.wire``), with its retry id."""

    batch_id: str = Field(min_length=1, max_length=64)


class _SeenBatches:
    """Ids of recently stored batches, so a post retried after a lost response is not stored twice."""

    def __init__(self, size: int = SEEN_BATCHES) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self.lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        return key in self._ids

    def add(self, key: str) -> None:
        self._ids[key] = None
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)


def _store(request: Request) -> RunStore:
    runs: RunStore = request.app.state.backend.runs
    return runs


def _seen(request: Request) -> _SeenBatches:
    state = request.app.state
    if not hasattr(state, "seen_batches"):
        state.seen_batches = _SeenBatches()
    seen: _SeenBatches = state.seen_batches
    return seen


def _record(store: RunStore, run_id: str) -> dict[str, Any]:
    return store.get_run(run_id).model_dump(mode="json")


@router.post("", status_code=201)
def create_run(
    new: NewRun, request: Request, status: Literal["PENDING", "RUNNING"] = "PENDING"
) -> dict[str, Any]:
    """Create a run, PENDING or RUNNING (409 if the id is taken)."""
    return _store(request).create_run(new, RunStatus(status)).model_dump(mode="json")


@router.get("")
def list_runs(
    request: Request,
    response: Response,
    limit: int = Query(50, ge=1, le=1000),
    status: list[RunStatus] | None = Query(None),
    plugin: Label | None = None,
    action: Label | None = None,
    before: Annotated[str, StringConstraints(max_length=300)] | None = None,
    summary: bool = False,
) -> list[dict[str, Any]]:
    """The newest runs first, filtered by status (repeatable), plugin code and action; the next
    page's cursor is the ``X-Next-Cursor`` header (pass it as ``before``), and ``X-Runs-Rev`` the
    store's change number to open ``/runs/events/stream`` from. ``summary`` leaves metrics out."""
    from synapse_sdk.backend.store.feed import store_rev

    store = _store(request)
    rev = store_rev(store)  # before the page: a change while it is read is streamed, not missed
    records, cursor = store.page_runs(
        limit, status, plugin=plugin, action=action, before=before, summary=summary
    )
    if cursor is not None:
        response.headers["X-Next-Cursor"] = cursor
    response.headers["X-Runs-Rev"] = str(rev)
    return [r.model_dump(mode="json") for r in records]


@router.get("/{run_id}")
def get_run(run_id: RunId, request: Request) -> dict[str, Any]:
    """One run with its latest progress and metrics (404 if unknown)."""
    return _record(_store(request), run_id)


@router.patch("/{run_id}")
def update_run(run_id: RunId, body: UpdateIn, request: Request) -> dict[str, Any]:
    """Set bookkeeping fields (pid, heartbeat, stop request...); 404 if the run is unknown."""
    store, fields = _store(request), body.fields.model_dump(exclude_unset=True)
    if not fields:
        store.get_run(run_id)  # nothing to write, but an unknown run is still a 404
    store.update(run_id, **fields)
    return {"updated": sorted(fields)}


@router.post("/{run_id}/transition")
def transition(run_id: RunId, body: TransitionIn, request: Request) -> dict[str, Any]:
    """Compare-and-set the status; ``moved`` is false when the run was not in ``expected`` (404: no run)."""
    fields = body.fields.model_dump(exclude_unset=True)
    return {"moved": _store(request).transition(run_id, body.expected, body.new, **fields)}


@router.post("/{run_id}/events")
def write_events(run_id: RunId, body: EventsBody, request: Request) -> dict[str, Any]:
    """Store a batch of logs, progress, metrics and the heartbeat; answer whether to stop (404: no run)."""
    seen = _seen(request)
    key = f"{run_id}/{body.batch_id}"
    with seen.lock:
        if key in seen:
            return {
                "stored": 0,
                "duplicate": True,
                "stop_requested": _store(request).get_run(run_id).stop_requested,
            }
        batch = EventBatch(
            logs=list(body.logs), progress=dict(body.progress), metrics=list(body.metrics),
            heartbeat=body.heartbeat, started=body.started,
        )  # fmt: skip
        stop = _store(request).write_events(run_id, batch)
        seen.add(key)
    return {"stored": len(batch), "duplicate": False, "stop_requested": stop}


@router.get("/{run_id}/logs")
def get_logs(
    run_id: RunId,
    request: Request,
    after: int = Query(0, ge=0, le=2**63 - 1),
    limit: int | None = Query(None, ge=1, le=1_000_000),
) -> list[dict[str, Any]]:
    """Log entries with a sequence number above ``after``, oldest first (404 if the run is unknown)."""
    return [e.model_dump(mode="json") for e in _store(request).get_logs(run_id, after=after, limit=limit)]


@router.get("/{run_id}/logs/count")
def count_logs(run_id: RunId, request: Request) -> dict[str, int]:
    """How many log entries a run has (404 if the run is unknown)."""
    return {"count": _store(request).count_logs(run_id)}


@router.get("/{run_id}/metrics")
def metric_history(run_id: RunId, request: Request, category: Label | None = None) -> list[dict[str, Any]]:
    """Every ``set_metrics`` call of a run, oldest first (404 if the run is unknown)."""
    return _store(request).metric_history(run_id, category)


@router.get("/{run_id}/pid_started")
def pid_started(run_id: RunId, request: Request) -> dict[str, str | None]:
    """The start-time fingerprint of the worker pid (guards against pid reuse; 404: no run)."""
    return {"pid_started": _store(request).pid_started(run_id)}
