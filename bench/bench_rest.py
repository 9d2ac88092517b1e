"""The dev REST server must serve nearly as fast as a bare FastAPI + uvicorn app.

Both serve the same handler (params model in, small dict out) at the same time on 127.0.0.1:
``synapse plugin run serve`` (validation, request recording on a serving run, metrics and
request logs in the SQLite store) and a bare FastAPI app under uvicorn with the same loop and
HTTP parser. A separate load process drives each with a bounded httpx loop (``CONCURRENCY``
threads, ``REQUESTS`` requests per round), alternating rounds; the median throughput of each
is compared. Target: dev server throughput >= 0.8x the bare app's.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from _common import post_load  # bench/ is on sys.path when a benchmark runs

TARGET_RATIO = 0.8
ROUNDS = 5
REQUESTS = 3000
CONCURRENCY = 4
BODY = {"text": "a cat on a mat", "top_k": 3}

HANDLER = """\
from pydantic import BaseModel


class Params(BaseModel):
    text: str
    top_k: int = 1


def handle(params):
    words = params["text"].split()
    return {"labels": [w.upper() for w in words[: params["top_k"]]], "n": len(words)}
"""
ACTION = """\
from synapse_sdk.plugins.categories.neural_net import InferenceAction

from plugin.handler import Params, handle


class Predict(InferenceAction):
    params_model = Params

    def start(self):
        return handle(self.params)
"""
CONFIG = """\
code: bench-rest
name: Bench REST
version: 1.0.0
category: neural_net
actions:
  predict:
    entrypoint: plugin.predict.Predict
    method: restapi
"""
BARE = """\
from fastapi import FastAPI

from plugin.handler import Params, handle

app = FastAPI()


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/predict")
def predict(params: Params):
    return handle(params.model_dump())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not answer within {timeout}s")


def load(url: str, requests: int, concurrency: int) -> None:
    """The load process: ``requests`` POSTs over ``concurrency`` threads; prints requests/second."""
    print(post_load(url.rstrip("/") + "/predict", BODY, requests, concurrency))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, requests: int = REQUESTS, pid: int | None = None) -> tuple[float, float]:
    """Throughput of one round, and the server's CPU milliseconds per request during it."""
    before = cpu_seconds(pid) if pid else 0.0
    out = subprocess.run(
        [sys.executable, __file__, "--load", url, str(requests), str(CONCURRENCY)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    cpu_ms = (cpu_seconds(pid) - before) * 1000 / requests if pid else 0.0
    return float(out.stdout.strip()), cpu_ms


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="bench-rest-"))
    plugin = root / "plugin-dir"
    (plugin / "plugin").mkdir(parents=True)
    (plugin / "plugin" / "__init__.py").write_text("")
    (plugin / "plugin" / "handler.py").write_text(HANDLER)
    (plugin / "plugin" / "predict.py").write_text(ACTION)
    (plugin / "bare_app.py").write_text(BARE)
    (plugin / "config.yaml").write_text(textwrap.dedent(CONFIG))
    env = {**os.environ, "SYNAPSE_HOME": str(root / "home")}
    env.pop("SYNAPSE_HOST", None)
    synapse = str(Path(sys.executable).with_name("synapse"))
    dev_port, bare_port = free_port(), free_port()
    dev = subprocess.Popen(
        [synapse, "plugin", "run", "serve", "--port", str(dev_port)],
        cwd=plugin, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    bare = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(bare_port),
         "--log-level", "warning", "--no-access-log"],
        cwd=plugin, env=env,
    )  # fmt: skip
    try:
        urls = {"dev": f"http://127.0.0.1:{dev_port}", "bare": f"http://127.0.0.1:{bare_port}"}
        for name, proc in (("dev", dev), ("bare", bare)):
            wait_healthy(urls[name] + "/health", proc)
            measure(urls[name], 400)  # warm-up
        pids = {"dev": dev.pid, "bare": bare.pid}
        results: dict[str, list[float]] = {"dev": [], "bare": []}
        cpu: dict[str, list[float]] = {"dev": [], "bare": []}
        for round_no in range(ROUNDS):
            order = ("bare", "dev") if round_no % 2 == 0 else ("dev", "bare")
            for name in order:
                rps, cpu_ms = measure(urls[name], pid=pids[name])
                results[name].append(rps)
                cpu[name].append(cpu_ms)
    finally:
        stop(dev)
        stop(bare)
    dev_rps, bare_rps = statistics.median(results["dev"]), statistics.median(results["bare"])
    ratio = dev_rps / bare_rps
    from synapse_sdk.backend.store.runs import RunStore

    store = RunStore(root / "home" / "synapse.db")
    (run,) = store.list_runs()
    served = run.metrics.get("requests", {})
    rows = (("bare FastAPI+uvicorn", "bare", bare_rps), ("synapse dev server", "dev", dev_rps))
    for label, name, rps in rows:
        rounds = ", ".join(f"{r:,.0f}" for r in results[name])
        print(f"{label:<21} {rps:,.0f} req/s median (rounds: {rounds})")
    dev_cpu, bare_cpu = statistics.median(cpu["dev"]), statistics.median(cpu["bare"])
    print(f"server CPU per request: dev {dev_cpu:.3f} ms, bare {bare_cpu:.3f} ms ({dev_cpu / bare_cpu:.2f}x)")
    print(
        f"serving run {run.id}: {run.status.value}, {served.get('total', 0):,} requests recorded, "
        f"{store.count_logs(run.id):,} log entries, lost {run.lost_events}"
    )
    verdict = "OK" if ratio >= TARGET_RATIO else "FAIL"
    print(f"ratio dev/bare = {ratio:.2f} (target >= {TARGET_RATIO})  {verdict}")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--load":
        load(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(main())
