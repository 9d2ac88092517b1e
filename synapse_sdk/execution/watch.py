"""A run's live events, in this process, from the embedded store or over HTTP alike.

:func:`run_events` yields the events of :mod:`synapse_sdk.backend.store.feed` (``status``,
``log``, ``metrics``, ``progress``, ``end``): against the embedded store it polls a
:class:`~synapse_sdk.backend.store.feed.RunFeed` (one key lookup every ``POLL`` seconds while
nothing changes), against ``synapse backend serve`` it reads the server's event stream. Either
way a run whose worker died unrecorded ends (its record reconciled), so the events always end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from synapse_sdk.errors import UsageError

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import RunsResource
    from synapse_sdk.backend.store.feed import RunEvent
    from synapse_sdk.backend.store.runs import RunStore

#: Seconds between two checks of the embedded store while the run is quiet.
POLL = 0.05


def run_events(
    runs: RunsResource, run_id: str, *, log_tail: int | None = None, metric_tail: int | None = None,
    poll: float = POLL,
) -> Iterator[RunEvent]:  # fmt: skip
    """The events of run ``run_id`` until its ``end`` (``RunNotFound`` first if there is none)."""
    from synapse_sdk.backend.store.runs import RunStore

    if isinstance(runs, RunStore):
        yield from _embedded(runs, run_id, log_tail, metric_tail, poll)
        return
    events = getattr(runs, "events", None)
    if events is None:
        raise UsageError(f"{runs!r} has no live events; watch runs of the embedded store or of a server")
    yield from events(run_id, log_tail=log_tail, metric_tail=metric_tail)


def _embedded(
    store: RunStore, run_id: str, log_tail: int | None, metric_tail: int | None, poll: float
) -> Iterator[RunEvent]:
    from synapse_sdk.backend.store.feed import RunFeed
    from synapse_sdk.execution.base import reconcile

    feed = RunFeed(
        store, run_id, log_tail=log_tail, metric_tail=metric_tail, liveness=lambda r: reconcile(store, r)
    )
    while not feed.ended:
        events = feed.poll()
        yield from events
        if not events and not feed.pending:
            time.sleep(poll)
