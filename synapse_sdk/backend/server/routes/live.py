"""Live runs over HTTP: server-sent event streams of one run and of the runs list, and stop.

``GET /runs/{id}/events/stream`` and ``GET /runs/events/stream`` send the events of
:mod:`synapse_sdk.backend.store.feed` as ``text/event-stream``; ``Last-Event-ID`` resumes.
The server reads the store once for all its streams (:mod:`synapse_sdk.backend.server.fanout`),
so an idle stream costs nothing but an await. ``POST /runs/{id}/stop`` stops a run in the
background and answers at once.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Body, Query, Request  # noqa: TID253 - server-only module
from fastapi.responses import JSONResponse, StreamingResponse  # noqa: TID253
from pydantic import BaseModel, Field, StringConstraints

from synapse_sdk.backend.schemas import Label, RunRecord, RunStatus
from synapse_sdk.backend.server.fanout import Hubs, Notifier, list_stream
from synapse_sdk.backend.server.fanout import run_stream as run_stream_bytes
from synapse_sdk.backend.server.routes.runs import RunId
from synapse_sdk.backend.store.feed import RunFeed, RunsFeed, position
from synapse_sdk.backend.store.runs import RunStore

router = APIRouter(prefix="/runs", tags=["events"])
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _shared(request: Request) -> tuple[Notifier, Hubs]:
    """The server's notifier and run hubs, made on the first stream."""
    state = request.app.state
    if getattr(state, "run_notifier", None) is None:
        store: RunStore = state.backend.runs
        state.run_notifier, state.run_hubs = Notifier(store), Hubs(store, _liveness(store))
    return state.run_notifier, state.run_hubs


def _liveness(store: RunStore) -> Callable[[RunRecord], RunRecord]:
    def check(record: RunRecord) -> RunRecord:
        from synapse_sdk.execution.base import reconcile

        return reconcile(store, record)

    return check


def _response(body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream", headers=_HEADERS)


Tail = Annotated[int | None, Query(ge=0, le=10_000_000)]


# The streams stay out of the OpenAPI schema: a schema-driven client (the tests' fuzzer) expects
# every call to end. Their events are documented in docs/runs-api.md.
@router.get("/events/stream", include_in_schema=False)
async def runs_stream(
    request: Request,
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    status: Annotated[list[RunStatus] | None, Query()] = None,
    plugin: Label | None = None,
    action: Label | None = None,
) -> StreamingResponse:
    """Server-sent ``run`` events: each run created or changed after ``after`` (the listing's
    ``X-Runs-Rev``; default: from now on), in its latest state; ``Last-Event-ID`` resumes."""
    resume = request.headers.get("last-event-id", "").strip()
    if resume.isdigit() and len(resume) <= 18:
        after = int(resume)
    store: RunStore = request.app.state.backend.runs
    feed = RunsFeed(store, after, status=status, plugin=plugin, action=action)
    first = await to_thread.run_sync(feed.poll) if after is not None else []
    return _response(list_stream(_shared(request)[0], feed.poll, first, lambda: feed.pending))


@router.get("/{run_id}/events/stream", include_in_schema=False)
async def run_stream(
    run_id: RunId,
    request: Request,
    log_tail: Tail = None,
    metric_tail: Tail = None,
    after: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,19}\.[0-9]{1,19}$")] | None = None,
) -> StreamingResponse:
    """Server-sent events of one run: ``status``, ``log``, ``metrics``, ``progress``, then ``end``
    (404 if there is no such run); ``Last-Event-ID`` (or ``after``, an event id) resumes after
    the events already sent."""
    store: RunStore = request.app.state.backend.runs
    after_ids = position(request.headers.get("last-event-id")) or position(after) or (0, 0)
    feed = RunFeed(
        store, run_id, after_log=after_ids[0], after_metric=after_ids[1],
        log_tail=log_tail, metric_tail=metric_tail, liveness=_liveness(store),
    )  # fmt: skip
    first = await to_thread.run_sync(feed.poll)  # RunNotFound: a 404 before the stream starts
    return _response(run_stream_bytes(*_shared(request), feed, first))


class StopIn(BaseModel):
    """How long the run has to end cleanly before it is killed."""

    grace: float = Field(10.0, ge=0, le=86400)


@router.post("/{run_id}/stop")
def stop(run_id: RunId, request: Request, body: Annotated[StopIn | None, Body()] = None) -> JSONResponse:
    """Stop a run wherever it executes: 202 while it stops in the background, 200 if it had ended."""
    from synapse_sdk.execution.base import reconcile, stop_run

    store: RunStore = request.app.state.backend.runs
    record = reconcile(store, store.get_run(run_id))
    if record.status.is_terminal:
        return JSONResponse({"id": run_id, "stopping": False, "status": record.status.value})
    grace = 10.0 if body is None else body.grace
    threading.Thread(target=_stop_quietly, args=(stop_run, store, run_id, grace), daemon=True).start()
    return JSONResponse({"id": run_id, "stopping": True, "status": record.status.value}, status_code=202)


def _stop_quietly(stop_run: Callable[..., Any], store: RunStore, run_id: str, grace: float) -> None:
    """Run ``stop_run`` in a thread of its own; what it fails with is logged, not raised."""
    import logging

    try:
        stop_run(store, run_id, grace=grace)
    except Exception:  # a thread's failure has no caller to reach
        logging.getLogger(__name__).exception("stopping run %s failed", run_id)
