"""The runs page with 10,000 runs in the store: the first page rendered in Chromium in at most 1 s.

10,000 runs (with progress and metrics) go into a real embedded store; ``synapse backend serve``
serves it; a headless Chromium that logged in once opens ``/#/runs`` in a fresh tab ten times.
Each time is from the navigation to the first page's 50 rows in the DOM (the HTML, the ES
modules, the listing's JSON and the rendering). Target: p95 at most 1 s.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from _dashboard import backend_server, chromium, logged_in, p95

from synapse_sdk.backend.schemas import EventBatch, NewRun, RunStatus
from synapse_sdk.backend.store.runs import RunStore

RUNS = 10_000
LOADS = 10
TARGET_SECONDS = 1.0


def fill(store: RunStore) -> float:
    """Create the runs (each with progress; every tenth with a metric); the seconds it took."""
    started = time.perf_counter()
    now = time.time()
    for i in range(RUNS):
        run_id = f"run-{i:05d}"
        store.create_run(
            NewRun(id=run_id, plugin_code=f"plugin-{i % 7}", plugin_version="1.0.0",
                   action=("train", "export")[i % 2], method="job", params={"epochs": i % 10}),
            RunStatus.RUNNING if i % 3 else RunStatus.PENDING,
        )  # fmt: skip
        metrics = [(now, "training", {"loss": 1 / (i + 1)})] if i % 10 == 0 else []
        store.write_events(run_id, EventBatch(progress={"training": (i % 100, 100, now)}, metrics=metrics))
    return time.perf_counter() - started


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        store = RunStore(home / "synapse.db")
        print(f"filled {RUNS:,} runs in {fill(store):.1f}s")
        times: list[float] = []
        with backend_server(home) as (url, token), chromium() as browser:
            context = logged_in(browser, url, token)
            for _ in range(LOADS):
                page = context.new_page()
                started = time.perf_counter()
                page.goto(f"{url}/#/runs")
                page.wait_for_function("() => document.querySelectorAll('tr.run-row').length === 50")
                times.append(time.perf_counter() - started)
                first = page.locator("tr.run-row").first.get_attribute("data-run-id")
                page.close()
                if first != f"run-{RUNS - 1:05d}":
                    print(f"FAIL: the first row is {first!r}, not the newest run")
                    return 1
            context.close()
    worst = p95(times)
    ok = worst <= TARGET_SECONDS
    print(f"runs page, first 50 of {RUNS:,} runs rendered: median {statistics.median(times):.3f}s, "
          f"p95 {worst:.3f}s over {LOADS} loads")  # fmt: skip
    print(f"ratio p95/target: {worst / TARGET_SECONDS:.2f} (target <= {TARGET_SECONDS:.1f}s) -> "
          f"{'OK' if ok else 'MISSED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
