"""One reading of the store for every event stream of a server: the notifier and the run hubs.

:class:`Notifier` reads the store's change number every ``CHECK_EVERY`` seconds while any
stream is open and wakes them all when it moves. :class:`RunHub` reads a run's new events once
for all the streams open on it and keeps them encoded; each stream takes what it has not sent,
with its own event ids. A stream that starts behind the hub (a replay, a resume) or falls far
behind it catches up with a :class:`~synapse_sdk.backend.store.feed.RunFeed` of its own, then
joins the hub. So 50 dashboards on one run cost one read and one JSON encoding per change.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from anyio import to_thread

from synapse_sdk.backend.schemas import RunRecord
from synapse_sdk.backend.store.feed import LIVENESS_EVERY, RunEvent, RunFeed, position, store_rev
from synapse_sdk.backend.store.runs import RunStore

#: Seconds between two reads of the store's change number while a stream is open.
CHECK_EVERY = 0.05
#: Seconds of silence after which a stream sends a comment, so that clients and proxies see it live.
KEEP_ALIVE = 10.0
#: Events a hub keeps for streams that have not taken them; one further behind catches up alone.
MAX_KEPT = 200_000
_encode = json.JSONEncoder(default=str, ensure_ascii=False, separators=(",", ":")).encode


def sse(event: RunEvent) -> bytes:
    """One event in the text/event-stream format (compact JSON holds no newline)."""
    return f"id: {event.id}\nevent: {event.event}\ndata: {_encode(event.data)}\n\n".encode()


class Notifier:
    """Wakes the streams of one server when the store's change number moves (one read per
    ``CHECK_EVERY`` seconds for all of them, none while no stream is open)."""

    def __init__(self, store: RunStore, every: float = CHECK_EVERY) -> None:
        self.store, self.every = store, every
        self.rev = store_rev(store)
        self._changed = asyncio.Condition()
        self._waiting = 0
        self._task: asyncio.Task[None] | None = None

    async def wait(self, seen: int, timeout: float) -> int:
        """The change number once it is past ``seen``, or ``seen`` after ``timeout`` seconds."""
        if self.rev > seen:
            return self.rev
        self._waiting += 1
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch())
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.rev > seen), timeout)
        except TimeoutError:
            pass
        finally:
            self._waiting -= 1
        return self.rev

    async def _watch(self) -> None:
        try:
            while self._waiting > 0:
                await asyncio.sleep(self.every)
                rev = store_rev(self.store)  # one lookup of an index's last entry
                if rev != self.rev:
                    self.rev = rev
                    async with self._changed:
                        self._changed.notify_all()
        finally:
            self._task = None


@dataclass(frozen=True)
class _Kept:
    """One event of a hub: its name, its log or metric seq (None for state), its encoded data,
    and the whole event as the hub numbers it (what a stream in step with the hub sends as is)."""

    name: str
    seq: int | None
    data: str
    event: bytes
    position: tuple[int, int]


class RunHub:
    """The events of run ``run_id`` after the hub was made, read once for every stream on it."""

    def __init__(self, store: RunStore, run_id: str, liveness: Callable[[RunRecord], RunRecord]) -> None:
        self.run_id = run_id
        self.start_log = _last_seq(store, "run_logs", run_id)
        self.start_metric = _last_seq(store, "run_metrics", run_id)
        self.feed = RunFeed(
            store, run_id, after_log=self.start_log, after_metric=self.start_metric, liveness=liveness
        )
        self.kept: list[_Kept] = []
        self.base = 0  # the index of kept[0] among every event the hub has read
        self.readers: dict[int, int] = {}  # stream -> index of the next event it takes
        self.ended = False
        self._lock = asyncio.Lock()
        self._polled, self._polled_at = -1, 0.0

    @property
    def end(self) -> int:
        """The index after the newest event read."""
        return self.base + len(self.kept)

    async def advance(self, rev: int) -> None:
        """Read what changed for store change number ``rev``, once for all streams (and, when
        nothing changed for ``LIVENESS_EVERY`` seconds, let the feed check the worker)."""
        async with self._lock:
            while not self.ended:
                due = time.monotonic() - self._polled_at >= LIVENESS_EVERY
                if rev <= self._polled and not self.feed.pending and not due:
                    return
                self._polled, self._polled_at = max(rev, self._polled), time.monotonic()
                events = await to_thread.run_sync(self.feed.poll)
                for e in events:
                    data = _encode(e.data)
                    full = f"id: {e.id}\nevent: {e.event}\ndata: {data}\n\n".encode()
                    at = position(e.id) or (0, 0)
                    self.kept.append(_Kept(e.event, _seq(e), data, full, at))
                self.ended = self.feed.ended
                self._trim()
                if not self.feed.pending:
                    return

    def _trim(self) -> None:
        """Drop what every stream took (or what is past ``MAX_KEPT``: its laggards catch up alone)."""
        keep_from = min(self.readers.values(), default=self.end)
        keep_from = max(keep_from, self.end - MAX_KEPT)
        for kept in self.kept[: max(keep_from - self.base, 0)]:
            if kept.name == "log" and kept.seq is not None:
                self.start_log = kept.seq
            elif kept.name == "metrics" and kept.seq is not None:
                self.start_metric = kept.seq
        if keep_from > self.base:
            del self.kept[: keep_from - self.base]
            self.base = keep_from


def _seq(event: RunEvent) -> int | None:
    seq = event.data.get("seq") if event.event in ("log", "metrics") else None
    return seq if isinstance(seq, int) else None


def _last_seq(store: RunStore, table: str, run_id: str) -> int:
    row = store.db.query_one(f"SELECT MAX(seq) FROM {table} WHERE run_id = ?", (run_id,))
    return int(row[0]) if row and row[0] is not None else 0


class Hubs:
    """The hubs of one server, by run id; a hub lives while a stream is open on its run."""

    def __init__(self, store: RunStore, liveness: Callable[[RunRecord], RunRecord]) -> None:
        self.store, self.liveness = store, liveness
        self._hubs: dict[str, RunHub] = {}
        self._users: dict[str, int] = {}

    def join(self, run_id: str) -> RunHub:
        hub = self._hubs.get(run_id)
        if hub is None:
            hub = self._hubs[run_id] = RunHub(self.store, run_id, self.liveness)
        self._users[run_id] = self._users.get(run_id, 0) + 1
        return hub

    def leave(self, run_id: str, stream: int) -> None:
        hub = self._hubs.get(run_id)
        if hub is not None:
            hub.readers.pop(stream, None)
        self._users[run_id] -= 1
        if not self._users[run_id]:
            del self._users[run_id], self._hubs[run_id]


async def run_stream(
    notifier: Notifier, hubs: Hubs, feed: RunFeed, first: list[RunEvent]
) -> AsyncIterator[bytes]:
    """The bytes of one run's stream: ``first`` (from ``feed``, the stream's own), then ``feed``'s
    events until it reaches the run's hub, then the hub's, until ``end``."""
    hub, stream = hubs.join(feed.run_id), id(feed)
    seen, sent_at = notifier.rev, time.monotonic()
    own: RunFeed | None = feed
    log, metric, events = feed.after_log, feed.after_metric, first
    state_from = 0  # the hub's state events before this index are older than what was sent
    in_step = False  # True once this stream's event ids are the hub's: it sends the hub's bytes
    try:
        while True:
            if own is not None:  # catching up alone
                if events:
                    yield b"".join(sse(e) for e in events)
                    sent_at = time.monotonic()
                log, metric = own.after_log, own.after_metric
                if own.ended:
                    return
                if log >= hub.start_log and metric >= hub.start_metric and not own.pending:
                    own, state_from = None, hub.end  # the hub has every event after this; its state is older
                    hub.readers[stream] = hub.base
                    continue
                if own.pending:
                    events = await to_thread.run_sync(own.poll)
                    continue
            else:
                index = hub.readers.get(stream, hub.base)
                if index < hub.base:  # fell behind what the hub keeps: catch up alone again
                    in_step = False
                    own = RunFeed(
                        feed.store, feed.run_id, after_log=log, after_metric=metric, liveness=feed.liveness
                    )
                    hub.readers.pop(stream, None)
                    events = []
                    continue
                taken = hub.kept[index - hub.base :]
                out: list[bytes] = []
                if in_step:  # what the hub numbered is what this stream would: send it as it is
                    out = [kept.event for kept in taken]
                else:
                    for number, kept in enumerate(taken, 1):
                        index += 1
                        if kept.name == "log":
                            if kept.seq is None or kept.seq <= log:
                                continue
                            log = kept.seq
                        elif kept.name == "metrics":
                            if kept.seq is None or kept.seq <= metric:
                                continue
                            metric = kept.seq
                        elif kept.name != "end" and index <= state_from:
                            continue
                        out.append(f"id: {log}.{metric}\nevent: {kept.name}\ndata: {kept.data}\n\n".encode())
                        if index > state_from and kept.position == (log, metric):
                            in_step = True
                            out += [k.event for k in taken[number:]]
                            break
                if taken and in_step:
                    log, metric = taken[-1].position
                hub.readers[stream] = hub.end
                if out:
                    yield b"".join(out)
                    sent_at = time.monotonic()
                if taken and taken[-1].name == "end":
                    return
            rev = await notifier.wait(seen, LIVENESS_EVERY)
            if rev == seen and time.monotonic() - sent_at >= KEEP_ALIVE:
                yield b": keep-alive\n\n"
                sent_at = time.monotonic()
            seen = rev
            if own is not None:
                events = await to_thread.run_sync(own.poll)
            else:
                await hub.advance(rev)
    finally:
        hubs.leave(feed.run_id, stream)


async def list_stream(notifier: Notifier, poll: Callable[[], list[Any]], first: list[RunEvent],
                      pending: Callable[[], bool]) -> AsyncIterator[bytes]:  # fmt: skip
    """The bytes of the runs list's stream: ``first``, then each poll's events as the notifier wakes it."""
    seen, events, sent_at = notifier.rev, first, time.monotonic()
    while True:
        if events:
            yield b"".join(sse(e) for e in events)
            sent_at = time.monotonic()
        if not pending():
            rev = await notifier.wait(seen, LIVENESS_EVERY)
            if rev == seen and time.monotonic() - sent_at >= KEEP_ALIVE:
                yield b": keep-alive\n\n"
                sent_at = time.monotonic()
            seen = rev
        events = await to_thread.run_sync(poll)
