"""Telemetry must not slow an action down.

One action loop issuing 100,000 ``set_progress``, 10,000 ``log_message`` and 10,000
``set_metrics`` calls, recorded into a real embedded store, against the same loop with no Run.
Target: at most 1 s longer, and all 10,000 log entries stored.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from synapse_sdk.backend.store.runs import RunStore
from synapse_sdk.plugins.run import BackendSink, Run

TARGET_EXTRA_SECONDS = 1.0


class NoRun:
    """The baseline: the same calls doing nothing."""

    def set_progress(self, current, total, category=None):
        pass

    def log_message(self, message, level="INFO"):
        pass

    def set_metrics(self, values, category):
        pass


def work(run) -> float:
    start = time.perf_counter()
    acc = 0.0
    for i in range(100_000):
        acc += i * 0.5
        run.set_progress(i + 1, 100_000, "training")
        if i % 10 == 0:
            run.log_message(f"step {i}: acc={acc:.1f}")
            run.set_metrics({"loss": 1.0 / (i + 1), "acc": acc}, "training")
    return time.perf_counter() - start


def main() -> int:
    extras = []
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "synapse.db")
        from synapse_sdk.backend.schemas import NewRun

        for attempt in range(3):
            run_id = f"bench-{attempt}"
            store.create_run(NewRun(id=run_id, action="bench"))
            baseline = work(NoRun())
            run = Run(run_id, [BackendSink(store)])
            start = time.perf_counter()
            work(run)
            run.close()
            recorded = time.perf_counter() - start
            stored = store.count_logs(run_id)
            extras.append(recorded - baseline)
            print(f"run {attempt}: baseline {baseline:.3f}s, with Run {recorded:.3f}s "
                  f"(incl. final flush), extra {recorded - baseline:.3f}s, logs stored {stored}")  # fmt: skip
            if stored != 10_000 or run.lost:
                print(f"FAIL: {stored} of 10,000 logs stored, {run.lost} lost")
                return 1
    extra = statistics.median(extras)
    ok = extra <= TARGET_EXTRA_SECONDS
    verdict = "OK" if ok else "MISSED"
    print(f"median extra time: {extra:.3f}s (target <= {TARGET_EXTRA_SECONDS:.1f}s) -> {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
