"""``to_task`` for 100,000 data units must stay within 2x of the platform's own bulk task creation.

On one embedded platform (a private ``SYNAPSE_HOME``) with a collection of ``UNITS`` data units
(``meta`` as ``pre_annotation`` leaves it, half kept), the median of ``ROUNDS`` rounds, each into
a fresh project:

* ours: the real ``to_task`` action of a plugin folder (``run_action``: params checked, the
  project's tasks read, the units streamed and filtered on ``meta_filter``, tasks created in
  batches of ``batch_size``, the run recorded), once with no filter (100,000 tasks) and once
  with ``{"pre_annotation.status": "kept"}`` (50,000);
* theirs: ``client.create_tasks(items)`` of the same ``{"project", "data_unit"}`` rows in one
  call (the bulk creation ``bench_platform.py`` measures), the rows built beforehand.

Target: ours <= ``TARGET`` x theirs for 100,000 units into 100,000 tasks (the issue's measure).
The filtered run is printed beside its 50,000-task bulk call for information: it reads twice as
many units as it makes tasks, which the bulk call never does. Also printed: a second ``to_task``
run on a full project (nothing to create). Run: ``.venv/bin/python
bench/bench_to_task.py [--units N]``; exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_plugin  # noqa: E402 - the folder above is put on the path first

UNITS = 100_000
ROUNDS = 3
TARGET = 2.0
CONFIG = """\
code: bench-to-task
name: to_task benchmark
version: 1.0.0
category: pre_annotation
actions:
  to_task:
    entrypoint: plugin.to_task.ToTask
    method: job
"""
SOURCE = """
from synapse_sdk.plugins.categories.pre_annotation import ToTaskAction


class ToTask(ToTaskAction):
    pass
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=UNITS)
    units_wanted = parser.parse_args().units
    tmp = Path(tempfile.mkdtemp(prefix="bench-to-task-"))
    home = tmp / "home"
    os.environ["SYNAPSE_HOME"] = str(home)
    for key in ("SYNAPSE_HOST", "SYNAPSE_ACCESS_TOKEN"):
        os.environ.pop(key, None)
    from synapse_sdk.clients.backend import get_backend_client
    from synapse_sdk.plugins.testing import run_action

    client = get_backend_client()
    plugin = write_plugin(tmp, CONFIG, {"to_task.py": SOURCE})
    collection = client.create_data_collection({"name": "bench"})["id"]
    rows = [
        {"data_collection": collection, "files": {},
         "meta": {"n": n, "pre_annotation": {"status": "kept" if n % 2 == 0 else "dropped"}}}
        for n in range(units_wanted)
    ]  # fmt: skip
    started = time.perf_counter()
    units = [unit["id"] for unit in client.create_data_units(rows)]
    print(
        f"{units_wanted:,} data units made in {time.perf_counter() - started:.1f}s; median of {ROUNDS} rounds"
    )
    kept = units[::2]
    projects = iter(range(1, 10_000))

    def project() -> int:
        return int(
            client.create_project({"title": f"p{next(projects)}", "data_collection": collection})["id"]
        )

    def bulk(ids: list[int]) -> float:
        target = project()
        items = [{"project": target, "data_unit": unit} for unit in ids]
        began = time.perf_counter()
        made = client.create_tasks(items)
        elapsed = time.perf_counter() - began
        assert len(made) == len(ids)
        return elapsed

    def ours(meta_filter: dict[str, str] | None) -> tuple[float, int]:
        target = project()
        params = {"project": target, "meta_filter": meta_filter or {}}
        began = time.perf_counter()
        run = run_action(plugin, "to_task", params, home=home)
        elapsed = time.perf_counter() - began
        assert run.result["tasks_created"] == (len(kept) if meta_filter else len(units)), run.result
        return elapsed, target

    times: dict[str, list[float]] = {"bulk all": [], "bulk kept": [], "to_task all": [], "to_task kept": []}
    full = 0
    for _ in range(ROUNDS):
        times["bulk all"].append(bulk(units))
        times["bulk kept"].append(bulk(kept))
        elapsed, full = ours(None)
        times["to_task all"].append(elapsed)
        times["to_task kept"].append(ours({"pre_annotation.status": "kept"})[0])
    began = time.perf_counter()
    again = run_action(plugin, "to_task", {"project": full}, home=home).result
    rerun = time.perf_counter() - began
    assert again["tasks_created"] == 0
    assert again["tasks_existing"] == len(units)

    median = {name: statistics.median(found) for name, found in times.items()}
    ok = True
    for label, count in (("all", len(units)), ("kept", len(kept))):
        value, base = median[f"to_task {label}"], median[f"bulk {label}"]
        ratio = value / base
        targeted = label == "all"
        ok &= ratio <= TARGET or not targeted
        verdict = ("OK" if ratio <= TARGET else "MISSED") if targeted else "info: reads 2 units per task"
        print(
            f"to_task, {label + ' (' + format(count, ',') + ' tasks)':<22} {value:7.3f}s vs "
            f"create_tasks {base:7.3f}s = {ratio:5.2f}x (target <= {TARGET:g}x) -> {verdict}"
        )
    print(f"to_task again on the full project (nothing to create): {rerun:.3f}s")
    print(
        f"tasks/s: to_task {len(units) / median['to_task all']:,.0f}, "
        f"create_tasks {len(units) / median['bulk all']:,.0f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
