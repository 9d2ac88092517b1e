"""Request recording for the REST server: counted on the event loop, reported by a thread.

Recording a request is one ``deque.append`` on the serving path. A reporter thread turns what
accumulated into run metrics every ``interval`` seconds (request count, throughput, errors and
latency percentiles, overall and per route) and into one ``request`` log entry per request
(method, route, status, latency). Above ``max_logs_per_interval`` requests in a window, every
error is still logged but successful requests are sampled; the metrics always count all.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synapse_sdk.plugins.run.run import Run

#: Category of the overall serving metrics on the serving run.
METRICS_CATEGORY = "requests"


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of already sorted values, nearest rank."""
    if not sorted_values:
        return 0.0
    rank = math.ceil(q * len(sorted_values) - 1e-9)  # nearest rank; the epsilon absorbs float error
    index = min(len(sorted_values) - 1, max(0, rank - 1))
    return sorted_values[index]


def summarize(latencies: list[float], errors: int, elapsed: float) -> dict[str, float]:
    """Metric values of one window: count, throughput, errors and latency percentiles in ms."""
    ordered = sorted(latencies)
    return {
        "count": len(ordered),
        "errors": errors,
        "throughput_rps": round(len(ordered) / elapsed, 2) if elapsed > 0 else 0.0,
        "latency_p50_ms": round(percentile(ordered, 0.50) * 1000, 3),
        "latency_p95_ms": round(percentile(ordered, 0.95) * 1000, 3),
        "latency_p99_ms": round(percentile(ordered, 0.99) * 1000, 3),
        "latency_max_ms": round(ordered[-1] * 1000, 3) if ordered else 0.0,
    }


class RequestStats:
    """Collects ``(method, route, status, latency)`` per request and reports them on ``run``."""

    def __init__(self, run: Run, *, interval: float = 1.0, max_logs_per_interval: int | None = 1000) -> None:
        self.run = run
        self.interval = interval
        self.max_logs_per_interval = max_logs_per_interval
        self.total = 0
        self.errors = 0
        self.logged = 0
        self._pending: deque[tuple[float, str, str, int, float]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._window_start = time.monotonic()
        self._report_lock = threading.Lock()

    def record(self, method: str, route: str, status: int, latency: float) -> None:
        """Note one finished request (thread-safe, O(1); called on the serving path)."""
        self._pending.append((time.time(), method, route, status, latency))

    def start(self) -> None:
        """Start the reporter thread."""
        self._window_start = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="serve-stats", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.report()

    def report(self) -> None:
        """Turn the requests recorded since the last report into metrics and request logs."""
        with self._report_lock:
            now = time.monotonic()
            elapsed, self._window_start = now - self._window_start, now
            pending = self._pending
            window = [pending.popleft() for _ in range(len(pending))]
            if not window:
                return
            errors = sum(1 for _, _, _, status, _ in window if status >= 400)
            self.total += len(window)
            self.errors += errors
            overall = summarize([w[4] for w in window], errors, elapsed)
            self.run.set_metrics(
                {**overall, "total": self.total, "errors_total": self.errors}, METRICS_CATEGORY
            )
            by_route: dict[str, list[tuple[float, str, str, int, float]]] = {}
            for item in window:
                by_route.setdefault(f"{item[1]} {item[2]}", []).append(item)
            for route, items in by_route.items():
                route_errors = sum(1 for i in items if i[3] >= 400)
                self.run.set_metrics(summarize([i[4] for i in items], route_errors, elapsed), route)
            self._log(window)

    def _log(self, window: list[tuple[float, str, str, int, float]]) -> None:
        limit = self.max_logs_per_interval
        step = 1 if limit is None or len(window) <= limit else len(window) / limit
        next_sample = 0.0
        for index, (ts, method, route, status, latency) in enumerate(window):
            sampled = index >= next_sample
            if sampled:
                next_sample += step
            if status >= 400 or sampled:
                self.logged += 1
                self.run.log("request", self._entry(ts, method, route, status, latency, step))

    @staticmethod
    def _entry(
        ts: float, method: str, route: str, status: int, latency: float, step: float
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "method": method, "route": route, "status": status, "latency_ms": round(latency * 1000, 3),
            "at": round(ts, 6),
        }  # fmt: skip
        if step > 1:
            entry["sampled_1_in"] = round(step, 1)
        return entry

    def close(self) -> None:
        """Stop the reporter and report what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.report()
