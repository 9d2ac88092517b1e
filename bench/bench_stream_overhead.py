"""50 open event streams on one run must not slow its action down.

``bench_run_overhead``'s loop (100,000 ``set_progress``, 10,000 ``log_message`` and 10,000
``set_metrics`` calls into a real embedded store), timed with no stream open and with 50
``GET /runs/{id}/events/stream`` readers on the same run: a real ``synapse backend serve`` on
the same store, the readers in another process (one asyncio client, 50 connections), each
reading every event. Seven pairs, in alternating order; the medians compared (the CPU time of
the loop's own process is printed beside: what the streams cost the action itself, whatever
else the machine runs).
Target: the loop at most 5 % slower with the streams, and every stream got every log entry.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_run_overhead import work  # noqa: E402 - the very same loop
from bench_watch_latency import start_server  # noqa: E402

from synapse_sdk.backend.schemas import NewRun, RunStatus  # noqa: E402
from synapse_sdk.backend.store.runs import RunStore  # noqa: E402
from synapse_sdk.plugins.run import BackendSink, Run  # noqa: E402

TARGET_EXTRA = 0.05
STREAMS = 50
ATTEMPTS = 7
#: The 50 readers, in a process of their own: each counts the events of its stream as bytes
#: arrive (what a browser elsewhere does costs this machine nothing; parsing here would).
READERS = """
import asyncio, json, sys
import httpx

LOG, END = b"\\nevent: log\\n", b"\\nevent: end\\n"

async def read(client, url, counts, ready, i):
    async with client.stream("GET", url) as answer:
        assert answer.status_code == 200, answer.status_code
        tail, logs = b"", 0
        async for chunk in answer.aiter_raw():
            ready.add(i)
            data = tail + chunk
            logs += data.count(LOG)
            tail = data[-16:]
            logs -= tail.count(LOG)  # counted again with the next chunk
            if END in data:
                counts[i] = logs + tail.count(LOG)
                return

async def main(url, token, n):
    counts, ready = [0] * n, set()
    limits = httpx.Limits(max_connections=n + 5)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=120, limits=limits) as client:
        tasks = [asyncio.create_task(read(client, url, counts, ready, i)) for i in range(n)]
        while len(ready) < n:
            await asyncio.sleep(0.02)
        print("ready", flush=True)
        await asyncio.gather(*tasks)
    print(json.dumps(counts), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


#: CPU seconds of this process during each timed loop, by whether streams were open.
CPU: dict[bool, list[float]] = {False: [], True: []}


def timed_loop(store: RunStore, run_id: str, streams: bool = False) -> float:
    """Seconds the loop takes with a Run recording into ``store`` (the final flush included)."""
    run = Run(run_id, [BackendSink(store)])
    start, cpu = time.perf_counter(), time.process_time()
    work(run)
    run.close()
    CPU[streams].append(time.process_time() - cpu)
    return time.perf_counter() - start


def watched(store: RunStore, url: str, token: str, run_id: str, received: list[int]) -> float:
    """The loop's time with STREAMS readers on run ``run_id``; what the fewest got goes to ``received``."""
    stream = f"{url}/runs/{run_id}/events/stream"
    readers = subprocess.Popen(
        [sys.executable, "-c", READERS, stream, token, str(STREAMS)], stdout=subprocess.PIPE, text=True
    )
    assert readers.stdout is not None
    if readers.stdout.readline().strip() != "ready":
        raise RuntimeError("the stream readers did not connect")
    seconds = timed_loop(store, run_id, streams=True)
    store.transition(run_id, [RunStatus.RUNNING], RunStatus.SUCCEEDED)
    received.append(min(json.loads(readers.stdout.readline())))
    readers.wait(60)
    return seconds


def main() -> int:
    token = "bench-token-0123456789"
    without, with_streams, received = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        store = RunStore(home / "synapse.db")
        server, url = start_server(home, token)
        try:
            for attempt in range(ATTEMPTS):
                plain_id, watched_id = f"plain-{attempt}", f"watched-{attempt}"
                for run_id in (plain_id, watched_id):
                    store.create_run(NewRun(id=run_id, action="bench"), RunStatus.RUNNING)
                if attempt % 2 == 0:  # alternate which goes first
                    without.append(timed_loop(store, plain_id))
                with_streams.append(watched(store, url, token, watched_id, received))
                if attempt % 2 == 1:
                    without.append(timed_loop(store, plain_id))
                store.transition(plain_id, [RunStatus.RUNNING], RunStatus.SUCCEEDED)
                print(
                    f"attempt {attempt}: loop {without[-1]:.3f}s without streams, {with_streams[-1]:.3f}s "
                    f"with {STREAMS} open; fewest log events one stream got: {received[-1]} of 10,000"
                )
        finally:
            server.terminate()
            server.wait(10)
    base, loaded = statistics.median(without), statistics.median(with_streams)
    extra = (loaded - base) / base
    ok = extra <= TARGET_EXTRA and min(received) == 10_000
    verdict = "OK" if ok else "MISSED"
    print(
        f"median loop {base:.3f}s -> {loaded:.3f}s with {STREAMS} streams: {extra:+.1%} "
        f"(ratio {max(extra, 0) / TARGET_EXTRA:.2f} of the target, <= {TARGET_EXTRA:.0%}; "
        f"every stream got every log: {min(received) == 10_000}) -> {verdict}"
    )
    cpu_base, cpu_loaded = statistics.median(CPU[False]), statistics.median(CPU[True])
    print(
        f"median CPU time of the loop's process: {cpu_base:.3f}s -> {cpu_loaded:.3f}s with {STREAMS} streams "
        f"({(cpu_loaded - cpu_base) / cpu_base:+.1%})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
