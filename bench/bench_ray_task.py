"""Ray task executor latency against a raw ``ray.remote`` call of the same handler, same cluster.

Starts its own local Ray cluster (2 CPUs), then times, interleaved, 100 calls of each:

- raw: ``ray.get(ray.remote(handler).remote(n))``, the handler doing the action's work;
- ours: ``RayTaskExecutor.run(prepared, [])`` for a ``task`` action whose ``start()`` calls
  the same handler. This includes everything a run costs: the PENDING record written by the
  caller, and in the worker RUNNING, the run's events and SUCCEEDED, all in the embedded store.

For context it then times the floor of any durable recording the same way (against raw
again, afterwards, so that it cannot disturb the target's measurement): the caller writes the
PENDING record while Ray dispatches and the run's end when the outcome arrives, one SQLite
statement each, and the task only runs the handler: no action, params or ``Run`` at all.

The plugin is prepared once (as the CLI does per run); each call gets a fresh run id, made
before the clock starts.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def recorded_floor(n: int) -> dict[str, object]:
    """The task of the floor: the handler's work and the end its owner will store, nothing else."""
    started = time.time()
    result = handler(n)
    return {"ok": True, "result": result, "end": {"started_at": started, "finished_at": time.time()}}


def with_new_id(prepared: Any) -> Any:
    """``prepared`` as a new run."""
    invocation = dataclasses.replace(prepared.invocation, run_id=uuid.uuid4().hex[:16])
    return dataclasses.replace(prepared, invocation=invocation)


def alternate(first: Callable[[], None], second: Callable[[], None]) -> tuple[list[float], list[float]]:
    """Seconds per call of each, called in turn: ``WARMUP`` untimed rounds, then ``CALLS`` timed."""
    timings: tuple[list[float], list[float]] = ([], [])
    for round_ in range(WARMUP + CALLS):
        for fn, samples in zip((first, second), timings, strict=True):
            started = time.perf_counter()
            fn()
            if round_ >= WARMUP:
                samples.append(time.perf_counter() - started)
    return timings


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
            from synapse_sdk.backend.schemas import ACTIVE, RunStatus
            from synapse_sdk.execution.ray.task import RayTaskExecutor
            from synapse_sdk.execution.runner import prepare
            from synapse_sdk.settings import Settings

            settings = Settings.from_env()
            executor = RayTaskExecutor(settings, cluster.address)  # connects this process
            prepared = prepare("score", {"n": 100}, path=plugin)
            raw = ray.remote(handler)
            # A runtime env of its own, as ours has: tasks with one get their own pool of workers.
            floor_env = {"env_vars": {"SYNAPSE_BENCH": "floor"}}
            floor_fn = ray.remote(recorded_floor).options(max_retries=0, runtime_env=floor_env)
            store = get_backend(settings).runs

            # A fresh run id per call, made before the clock starts: the harness's work, not ours.
            calls = iter([with_new_id(prepared) for _ in range(2 * (WARMUP + CALLS))])

            def ours() -> None:
                executor.run(next(calls), [])

            def bare() -> None:
                ray.get(raw.remote(100))

            def floor() -> None:
                call = next(calls)
                ref = floor_fn.remote(100)
                store.create_run(call.new_run())
                outcome = ray.get(ref)
                run_id, end = call.invocation.run_id, outcome["end"]
                store.transition(run_id, ACTIVE, RunStatus.SUCCEEDED, result=outcome["result"], **end)

            timings = alternate(ours, bare)
            floor_timings = alternate(floor, bare)  # after, so that it cannot disturb the target's
            runs = [r for r in store.list_runs(limit=10_000) if r.extra.get("ray")]
            succeeded = sum(r.status.value == "SUCCEEDED" for r in runs)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ours_ms, raw_ms = median_ms(timings[0]), median_ms(timings[1])
    ratio = ours_ms / raw_ms
    floor_ratio = median_ms(floor_timings[0]) / median_ms(floor_timings[1])
    print(f"raw ray.remote        median {raw_ms:.2f} ms (p90 {_p90(timings[1]):.2f} ms)")
    print(f"synapse Ray task      median {ours_ms:.2f} ms (p90 {_p90(timings[0]):.2f} ms)")
    print(f"recording floor       {floor_ratio:.2f}x raw, measured the same way after (for context)")
    print(f"runs recorded: {len(runs)}, SUCCEEDED: {succeeded} (of {CALLS + WARMUP})")
    verdict = "OK" if ratio <= TARGET else "FAIL"
    print(f"ratio ours/raw = {ratio:.2f}x (target <= {TARGET}x)  {verdict}")
    return 0 if ratio <= TARGET else 1


def _p90(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.9)] * 1000


if __name__ == "__main__":
    sys.exit(main())
