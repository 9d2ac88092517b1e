"""``POST /inference`` of the neural_net template must serve nearly as fast as a bare FastAPI app.

Both serve the same registered model (the template's CNN, trained for one epoch on the digits)
with the same preprocessing (base64 PNG -> Pillow -> ``to_tensor``) at the same time on
127.0.0.1, each with one torch thread: ``synapse plugin run serve`` of the plugin (params
validation, the model loaded in ``setup()``, every request recorded on the serving run) and a
bare FastAPI app under uvicorn calling ``load_predictor(path).predict``. A separate load process
drives each (``CONCURRENCY`` threads, ``REQUESTS`` per round), rounds alternate, and the median
throughputs are compared. Target: served inference >= 0.8x the bare app's throughput.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import post_load  # bench/ is on sys.path when a benchmark runs
from bench_rest import cpu_seconds, free_port, stop, wait_healthy

TARGET_RATIO = 0.8
ROUNDS = 5
REQUESTS = 1500
CONCURRENCY = 4

BARE = """\
import base64
import io

from fastapi import FastAPI
from PIL import Image
from pydantic import BaseModel

from plugin.model import load_predictor

predictor = load_predictor("{model}")
app = FastAPI()


class Body(BaseModel):
    image: str


@app.get("/health")
def health():
    return {{"status": "ok"}}


@app.post("/inference")
def inference(body: Body):
    image = Image.open(io.BytesIO(base64.b64decode(body.image)))
    (prediction,) = predictor.predict([image])
    return prediction
"""


def digit_body() -> dict[str, str]:
    """The request: one held-out digit as a base64 PNG."""
    from PIL import Image
    from sklearn.datasets import load_digits

    pixels = (load_digits().images[1790] * (255 / 16)).round().astype("uint8")
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return {"image": base64.b64encode(buffer.getvalue()).decode("ascii")}


def trained_model(plugin: Path, target: Path) -> Path:
    """The template's CNN trained for one epoch on the digits, saved as train saves it."""
    import torch
    from PIL import Image
    from sklearn.datasets import load_digits

    spec = importlib.util.spec_from_file_location("bench_model", plugin / "plugin" / "model.py")
    assert spec is not None
    assert spec.loader is not None
    model_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model_py)
    digits = load_digits()
    images = [Image.fromarray((p * (255 / 16)).round().astype("uint8"), mode="L") for p in digits.images]
    torch.manual_seed(0)
    model = model_py.build_model(10)
    loader = model_py.make_loader(images, digits.target.tolist(), shuffle=True)
    model_py.train_epoch(model, loader, torch.optim.Adam(model.parameters(), lr=2e-3))
    return Path(model_py.save_model(target, model, [str(c) for c in range(10)], {}))


def load(url: str, requests: int, concurrency: int) -> None:
    """The load process: ``requests`` POSTs over ``concurrency`` threads; prints requests/second."""
    print(post_load(url.rstrip("/") + "/inference", digit_body(), requests, concurrency))


def measure(url: str, pid: int, requests: int = REQUESTS) -> tuple[float, float]:
    """Throughput of one round, and the server's CPU milliseconds per request during it."""
    before = cpu_seconds(pid)
    out = subprocess.run(
        [sys.executable, __file__, "--load", url, str(requests), str(CONCURRENCY)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout.strip()), (cpu_seconds(pid) - before) * 1000 / requests


def main() -> int:
    from synapse_sdk.plugins.templates import render_plugin

    root = Path(tempfile.mkdtemp(prefix="bench-inference-"))
    home = root / "home"
    plugin = render_plugin("digits", "neural_net", output_dir=root)
    model_file = trained_model(plugin, root / "model.pt")
    env = {**os.environ, "SYNAPSE_HOME": str(home), "OMP_NUM_THREADS": "1"}
    env.pop("SYNAPSE_HOST", None)
    os.environ["SYNAPSE_HOME"] = str(home)
    from synapse_sdk.clients.backend import get_backend_client

    model = get_backend_client().create_model(
        {"name": "digits-cnn", "plugin": "digits@0.1.0"}, file=model_file
    )
    (plugin / "bare_app.py").write_text(BARE.format(model=model_file))
    synapse = str(Path(sys.executable).with_name("synapse"))
    dev_port, bare_port = free_port(), free_port()
    dev = subprocess.Popen(
        [synapse, "plugin", "run", "serve", "--port", str(dev_port)], cwd=plugin, env=env,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    bare = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(bare_port),
         "--log-level", "warning", "--no-access-log"],
        cwd=plugin, env=env,
    )  # fmt: skip
    try:
        urls = {"dev": f"http://127.0.0.1:{dev_port}", "bare": f"http://127.0.0.1:{bare_port}"}
        pids = {"dev": dev.pid, "bare": bare.pid}
        for name, proc in (("dev", dev), ("bare", bare)):
            wait_healthy(urls[name] + "/health", proc, timeout=60)
            measure(urls[name], pids[name], 300)  # warm-up
        results: dict[str, list[float]] = {"dev": [], "bare": []}
        cpu: dict[str, list[float]] = {"dev": [], "bare": []}
        for round_no in range(ROUNDS):
            for name in ("bare", "dev") if round_no % 2 == 0 else ("dev", "bare"):
                rps, cpu_ms = measure(urls[name], pids[name])
                results[name].append(rps)
                cpu[name].append(cpu_ms)
    finally:
        stop(dev)
        stop(bare)
    dev_rps, bare_rps = statistics.median(results["dev"]), statistics.median(results["bare"])
    ratio = dev_rps / bare_rps
    from synapse_sdk.backend.store.runs import RunStore

    store = RunStore(home / "synapse.db")
    (run,) = store.list_runs()
    served = run.metrics.get("requests", {})
    size = model_file.stat().st_size
    print(f"model {model['id']}: the template's CNN ({size:,} bytes), one 8x8 PNG digit per request")
    rows = (("bare FastAPI+uvicorn", "bare", bare_rps), ("synapse serve", "dev", dev_rps))
    for label, name, rps in rows:
        rounds = ", ".join(f"{r:,.0f}" for r in results[name])
        print(f"{label:<21} {rps:,.0f} req/s median (rounds: {rounds})")
    dev_cpu, bare_cpu = statistics.median(cpu["dev"]), statistics.median(cpu["bare"])
    print(
        f"server CPU per request: serve {dev_cpu:.3f} ms, bare {bare_cpu:.3f} ms ({dev_cpu / bare_cpu:.2f}x)"
    )
    print(
        f"serving run {run.id}: {run.status.value}, {served.get('total', 0):,} requests recorded, "
        f"{store.count_logs(run.id):,} log entries, lost {run.lost_events}"
    )
    verdict = "OK" if ratio >= TARGET_RATIO else "FAIL"
    print(f"ratio serve/bare = {ratio:.2f} (target >= {TARGET_RATIO})  {verdict}")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--load":
        load(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(main())
