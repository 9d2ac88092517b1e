"""Ray task executor latency against a raw ``ray.remote`` call of the same handler, same cluster.

Starts its own local Ray cluster (2 CPUs), then times, interleaved, 100 calls of each:

- raw: ``ray.get(ray.remote(handler).remote(n))``, the handler doing the action's work;
- ours: ``RayTaskExecutor.run(prepared, [])`` for a ``task`` action whose ``start()`` calls
  the same handler. This includes everything a run costs: the PENDING record written by the
  caller, and in the worker RUNNING, the run's events and SUCCEEDED, all in the embedded store.

The plugin is prepared once (as the CLI does per run); each call gets a fresh run id.
Target: ours at most 1.2x raw (median of 100).
"""

from __future__ import annotations

import dataclasses
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _common import write_plugin  # bench/ is on sys.path when a benchmark runs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 1.2
CALLS = 100
WARMUP = 20
CONFIG = """\
code: bench-task
name: Bench Task
version: 1.0.0
category: neural_net
actions:
  score:
    entrypoint: plugin.score.Score
    method: task
"""
SOURCE = """\
from pydantic import BaseModel
from synapse_sdk.plugins.categories.base import Action


def handler(n):
    return {"score": sum(i * i for i in range(n))}


class Params(BaseModel):
    n: int = 100


class Score(Action):
    name = "score"
    params_model = Params

    def start(self):
        return handler(self.params["n"])
"""


def handler(n: int) -> dict[str, int]:
    """The same work as the plugin's handler."""
    return {"score": sum(i * i for i in range(n))}


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> int:
    import os

    from tests.ray_cluster import local_ray_cluster

    root = Path(tempfile.mkdtemp(prefix="bench-ray-task-"))
    plugin = write_plugin(root, CONFIG, {"score.py": SOURCE})
    os.environ["SYNAPSE_HOME"] = str(root / "home")
    try:
        with local_ray_cluster(num_cpus=2) as cluster:
            import ray

            from synapse_sdk.backend import get_backend
            from synapse_sdk.execution.ray_task import RayTaskExecutor
            from synapse_sdk.execution.runner import prepare
            from synapse_sdk.settings import Settings

            settings = Settings.from_env()
            executor = RayTaskExecutor(settings, cluster.address)  # connects this process
            prepared = prepare("score", {"n": 100}, path=plugin)
            raw = ray.remote(handler)

            def ours() -> None:
                inv = dataclasses.replace(prepared.invocation, run_id=uuid.uuid4().hex[:16])
                executor.run(dataclasses.replace(prepared, invocation=inv), [])

            def bare() -> None:
                ray.get(raw.remote(100))

            timings: dict[str, list[float]] = {"ours": [], "raw": []}
            for _ in range(WARMUP):
                ours()
                bare()
            for _ in range(CALLS):
                for name, fn in (("ours", ours), ("raw", bare)):
                    started = time.perf_counter()
                    fn()
                    timings[name].append(time.perf_counter() - started)
            store = get_backend(settings)
            runs = store.list_runs(limit=10_000)
            succeeded = sum(r.status.value == "SUCCEEDED" for r in runs)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ours_ms, raw_ms = median_ms(timings["ours"]), median_ms(timings["raw"])
    ratio = ours_ms / raw_ms
    print(f"raw ray.remote        median {raw_ms:.2f} ms (p90 {_p90(timings['raw']):.2f} ms)")
    print(f"synapse Ray task      median {ours_ms:.2f} ms (p90 {_p90(timings['ours']):.2f} ms)")
    print(f"runs recorded: {len(runs)}, SUCCEEDED: {succeeded} (of {CALLS + WARMUP})")
    verdict = "OK" if ratio <= TARGET else "FAIL"
    print(f"ratio ours/raw = {ratio:.2f}x (target <= {TARGET}x)  {verdict}")
    return 0 if ratio <= TARGET else 1


def _p90(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.9)] * 1000


if __name__ == "__main__":
    sys.exit(main())
