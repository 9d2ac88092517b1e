"""One background thread per process that flushes every open ``Run`` when it is due.

A thread per run cost a start and a join on every run (about 0.1-0.3 ms, more in a busy Ray
worker); short ``task`` runs are dominated by that. The shared thread keeps a due time per
run: ``schedule(run, delay)`` brings a run's next flush forward (never back), and after each
flush the run is due again one ``flush_interval`` later, which also carries its heartbeat.
Flushes run one after another: a backend that keeps one waiting (HTTP retries) delays the
others too; their events wait in their buffers, and ``close()`` flushes in the caller's thread.

Waking the thread costs the action a thread switch at the worst moment (a short Ray task
measured 0.04-0.06x of a raw call slower). So ``schedule()`` wakes it only when it would
otherwise wake too late, and for ``IDLE_POLL_FOR`` seconds after a run was last scheduled it
looks every ``IDLE_POLL`` seconds by itself, so that runs in quick succession need no wake-up.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Protocol

logger = logging.getLogger(__name__)

#: While idle but recently busy, the thread looks for due runs this often (seconds)...
IDLE_POLL = 0.02
#: ...for this long after a run was last scheduled; then it sleeps until one is.
IDLE_POLL_FOR = 2.0


class Flushable(Protocol):
    """What the flusher needs of a run."""

    flush_interval: float

    def flush_due(self) -> None:
        """Flush now unless closed; must not raise."""


class Flusher:
    """Flushes registered runs on their intervals, or sooner when asked, from one daemon thread."""

    def __init__(self) -> None:
        self._reset()
        # A forked child has the registrations but not the thread (nor a usable lock): start afresh.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()  # held as itself where no wait or notify is needed: cheaper
        self._cond = threading.Condition(self._lock)
        self._due: dict[Flushable, float] = {}
        self._started = False
        #: When the thread next looks at ``_due`` by itself (monotonic; inf: only when woken).
        self._wakes_at = 0.0
        self._last_busy = 0.0

    def schedule(self, run: Flushable, delay: float) -> None:
        """Flush ``run`` within ``delay`` seconds (sooner if it is already due sooner)."""
        self._ensure_thread()
        now = time.monotonic()
        due = now + delay
        with self._lock:
            self._last_busy = now
            current = self._due.get(run)
            if current is None or due < current:
                self._due[run] = due
                if due < self._wakes_at:
                    self._cond.notify()

    def remove(self, run: Flushable) -> None:
        """Stop flushing ``run``; a flush already under way finishes."""
        with self._lock:
            self._due.pop(run, None)

    def _ensure_thread(self) -> None:
        if self._started:
            return
        with self._lock:
            if not self._started:
                threading.Thread(target=self._loop, name="synapse-run-flusher", daemon=True).start()
                self._started = True

    def _loop(self) -> None:
        while True:
            for run in self._next_due():
                try:
                    run.flush_due()
                except Exception:  # noqa: BLE001 - one broken run must not stop the others' flushes
                    logger.exception("flushing run %r failed", run)

    def _next_due(self) -> list[Flushable]:
        with self._cond:
            while True:
                now = time.monotonic()
                ready = [run for run, due in self._due.items() if due <= now]
                if ready:
                    for run in ready:
                        self._due[run] = now + run.flush_interval
                    self._wakes_at = now  # it looks again right after these flushes
                    return ready
                if self._due:
                    wait: float | None = min(self._due.values()) - now
                elif now - self._last_busy < IDLE_POLL_FOR:
                    wait = IDLE_POLL
                else:
                    wait = None
                self._wakes_at = now + wait if wait is not None else float("inf")
                self._cond.wait(wait)


#: The process's flusher.
FLUSHER = Flusher()
