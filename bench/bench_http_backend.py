"""Reporting through the HTTP backend must not slow an action down more than the embedded store.

The same action loop as ``bench_run_overhead.py`` (100,000 ``set_progress``, 10,000
``log_message``, 10,000 ``set_metrics``) records into the embedded SQLite store, then into a
real ``synapse backend serve`` on 127.0.0.1 through ``HttpBackend``. Measured: the loop's own
time (what the action feels), the time until everything is delivered (``close()``), and
what was stored. Target: the HTTP loop takes at most 1.2x the embedded loop's time plus 0.1 s,
and all 10,000 log entries arrive with nothing lost.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_run_overhead import work  # the same action loop, run from this folder

from synapse_sdk.backend.http import HttpBackend
from synapse_sdk.backend.schemas import NewRun
from synapse_sdk.backend.store.runs import RunStore
from synapse_sdk.plugins.run import BackendSink, Run

TARGET_RATIO = 1.2
TARGET_SLACK = 0.1
ROUNDS = 3
TOKEN = "bench-token-0123456789"


def start_server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "SYNAPSE_HOME": str(home), "SYNAPSE_ACCESS_TOKEN": TOKEN}
    env.pop("SYNAPSE_HOST", None)
    synapse = str(Path(sys.executable).with_name("synapse"))
    proc = subprocess.Popen([synapse, "backend", "serve", "--port", str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("backend server did not start")


def measure(backend, run_id: str) -> tuple[float, float, int, int]:  # type: ignore[no-untyped-def]
    backend.create_run(NewRun(id=run_id, action="bench"))
    run = Run(run_id, [BackendSink(backend)])
    started = time.perf_counter()
    loop = work(run)
    run.close()
    total = time.perf_counter() - started
    return loop, total, backend.count_logs(run_id), run.lost


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-http-"))
    proc, url = start_server(tmp / "server-home")
    results: dict[str, list[tuple[float, float, int, int]]] = {"embedded": [], "http": []}
    client = HttpBackend(url, TOKEN)
    try:
        backends = {"embedded": RunStore(tmp / "local" / "synapse.db"), "http": client.runs}
        for attempt in range(ROUNDS):
            for name, backend in backends.items():
                results[name].append(measure(backend, f"{name}-{attempt}"))
    finally:
        client.close()
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(15)
    ok = True
    for name, rows in results.items():
        for loop, total, stored, lost in rows:
            print(f"{name:<9} action loop {loop:.3f}s, delivered after {total:.3f}s, "
                  f"logs stored {stored:,}, lost {lost}")  # fmt: skip
            ok &= stored == 10_000 and lost == 0
    embedded = statistics.median(r[0] for r in results["embedded"])
    http = statistics.median(r[0] for r in results["http"])
    limit = embedded * TARGET_RATIO + TARGET_SLACK
    ok &= http <= limit
    print(f"median action loop: embedded {embedded:.3f}s, http {http:.3f}s = {http / embedded:.2f}x "
          f"(target <= {TARGET_RATIO}x + {TARGET_SLACK}s = {limit:.3f}s, all logs stored) "
          f"-> {'OK' if ok else 'MISSED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
