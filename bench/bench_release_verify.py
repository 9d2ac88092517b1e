"""Cost of checking an extracted release against its manifest, paid before every run of it.

A small plugin (config, ``__init__``, one action) and the demo plugin are published into a
throwaway ``SYNAPSE_HOME`` and extracted once; then ``verify_release`` (walk the folder, sha256
every file, compare with the manifest) and the whole in-process resolution of a run
(``resolve_plugin_ref``: registry lookup + verification) are timed. Target: verification at most
20 ms for the small plugin (the median of many rounds). A larger plugin (200 files, 2 MiB) is
shown for scale, without a target.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import write_plugin  # bench/ is on sys.path when a benchmark runs

ROOT = Path(__file__).resolve().parents[1]

TARGET_MS = 20.0
ROUNDS = 200
CONFIG = """\
code: {code}
name: Bench
version: 1.0.0
category: neural_net
actions:
  train:
    entrypoint: plugin.train.Train
    method: task
"""
TRAIN = """\
from synapse_sdk.plugins.categories.neural_net import TrainAction


class Train(TrainAction):
    def start(self):
        return {}
"""


def median_ms(call: Callable[[], object], rounds: int = ROUNDS) -> float:
    """Median wall time of ``call`` in milliseconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    os.environ["SYNAPSE_HOME"] = str(work / "home")
    from synapse_sdk.backend import get_backend
    from synapse_sdk.packaging.extract import remove_tree
    from synapse_sdk.packaging.manifest import MANIFEST, verify_release
    from synapse_sdk.packaging.publish import publish, resolve_plugin_ref

    try:
        small = write_plugin(work / "small", CONFIG.format(code="bench-small"), {"train.py": TRAIN})
        demo = work / "demo"
        shutil.copytree(ROOT / "examples" / "synapse-demo-plugin", demo,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        large = write_plugin(work / "large", CONFIG.format(code="bench-large"), {"train.py": TRAIN})
        for i in range(200):
            (large / "plugin" / f"part_{i:03}.py").write_text(f"VALUE = {i}\n" + "# padding\n" * 1000)
        rows = []
        cases = [("small plugin", small, "bench-small"), ("demo plugin", demo, "demo-train"),
                 ("200 files, ~2 MiB", large, "bench-large")]  # fmt: skip
        for label, folder, code in cases:
            publish(folder, get_backend().releases)
            release = resolve_plugin_ref(code)
            files = len(json.loads((release / MANIFEST).read_text())["files"])
            rounds = ROUNDS if code != "bench-large" else 20
            verify = median_ms(lambda r=release: verify_release(r), rounds)
            resolve = median_ms(lambda c=code: resolve_plugin_ref(c), rounds)
            rows.append((label, files, verify, resolve))
        print(f"{'release':20} {'files':>6} {'verify ms':>10} {'resolve ms':>11}")
        for label, files, verify, resolve in rows:
            print(f"{label:20} {files:>6} {verify:>10.2f} {resolve:>11.2f}")
        small_ms = rows[0][2]
        met = small_ms <= TARGET_MS
        verdict = "met" if met else "MISSED"
        print(f"verify, small plugin: {small_ms:.2f} ms (target <= {TARGET_MS:.0f} ms): {verdict}")
        return 0 if met else 1
    finally:
        remove_tree(work)  # releases are read-only


if __name__ == "__main__":
    raise SystemExit(main())
