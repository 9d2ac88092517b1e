"""From ``set_progress`` in an action to a ``synapse job watch`` consumer: how long it takes.

An action's ``Run`` (the same reporting path a worker uses: buffered, flushed every 0.2 s)
sets progress 60 times, 0.1-0.25 s apart, while a consumer reads the run's events the way
``job watch`` does (:func:`synapse_sdk.execution.watch.run_events`): against the embedded
store, and over HTTP from a real ``synapse backend serve`` (the action reporting to it too).
Each step's latency is the time from its ``set_progress`` to the consumer seeing that value or
a later one (a flush keeps only a category's latest value).
Target: p95 at most 1 s, both ways.
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from synapse_sdk.backend.protocol import RunsResource
from synapse_sdk.backend.schemas import NewRun, RunStatus
from synapse_sdk.execution.watch import run_events
from synapse_sdk.plugins.run import BackendSink, Run

TARGET_P95 = 1.0
STEPS = 60


def measure(runs: RunsResource, watch_runs: RunsResource, run_id: str) -> list[float]:
    """Latencies of STEPS progress values set by an action on ``runs``, seen through ``watch_runs``."""
    runs.create_run(NewRun(id=run_id, action="bench"), RunStatus.RUNNING)
    set_at: dict[float, float] = {}
    seen_at: dict[float, float] = {}
    ready = threading.Event()

    def consume() -> None:
        for event in run_events(watch_runs, run_id):
            ready.set()
            if event.event == "progress":  # coalesced: a value stands for every step up to it
                now = time.time()
                for step in range(1, int(event.data["current"]) + 1):
                    seen_at.setdefault(float(step), now)

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    ready.wait(10)
    run = Run(run_id, [BackendSink(runs)])
    rng = random.Random(15)
    for step in range(1, STEPS + 1):
        set_at[float(step)] = time.time()
        run.set_progress(step, STEPS, "work")
        time.sleep(rng.uniform(0.1, 0.25))
    run.close()
    runs.transition(run_id, [RunStatus.RUNNING], RunStatus.SUCCEEDED)
    consumer.join(30)
    missing = [s for s in set_at if s not in seen_at]
    if missing:
        raise RuntimeError(f"{len(missing)} progress values never reached the consumer: {missing[:5]}")
    return [seen_at[s] - set_at[s] for s in set_at]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(home: Path, token: str) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = free_port()
    env = {**os.environ, "SYNAPSE_HOME": str(home), "SYNAPSE_ACCESS_TOKEN": token}
    env.pop("SYNAPSE_HOST", None)
    synapse = str(Path(sys.executable).with_name("synapse"))
    proc = subprocess.Popen(
        [synapse, "backend", "serve", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the backend server did not start")


def main() -> int:
    from synapse_sdk.backend.http import HttpBackend
    from synapse_sdk.backend.store.runs import RunStore

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "embedded" / "synapse.db")
        results = {"embedded": measure(store, store, "embedded")}
        token = "bench-token-0123456789"
        proc, url = start_server(Path(tmp) / "server", token)
        try:
            with HttpBackend(url, token) as reporter, HttpBackend(url, token) as watcher:
                results["http"] = measure(reporter.runs, watcher.runs, "http")
        finally:
            proc.terminate()
            proc.wait(10)
    for where, latencies in results.items():
        value = p95(latencies)
        verdict = "OK" if value <= TARGET_P95 else "MISSED"
        ok &= value <= TARGET_P95
        print(
            f"{where:<8} set_progress -> job watch: p50 {statistics.median(latencies):.3f}s, "
            f"p95 {value:.3f}s, max {max(latencies):.3f}s over {len(latencies)} steps; "
            f"ratio {value / TARGET_P95:.2f} of the target (p95 <= {TARGET_P95:.1f}s) -> {verdict}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
