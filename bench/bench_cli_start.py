"""Cold start of ``synapse plugin run`` against a bare interpreter importing pydantic and yaml.

Runs the spec's TrainAction example (3 epochs, recorded in a fresh embedded store) and the
baseline ``python -c "import pydantic, yaml"`` alternately, and compares medians.
Target: at most 1.5x the baseline. A third command shows the floor any plugin with a pydantic
params model pays: importing pydantic, yaml and building one model.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNIPPET = ROOT / "tests" / "spec_examples" / "snippets" / "train.py"
SYNAPSE = str(Path(sys.executable).with_name("synapse"))
TARGET = 1.5
ROUNDS = 15
CONFIG = """\
code: "my-plugin"
name: "My Custom Plugin"
version: "1.0.0"
category: "neural_net"
actions:
  train:
    entrypoint: "plugin.train.TrainAction"
    method: "job"
"""
FLOOR = "import pydantic, yaml\nclass P(pydantic.BaseModel):\n    x: int = 1\nP(x=2)"


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    import os

    with tempfile.TemporaryDirectory() as tmp:
        plugin = Path(tmp) / "synapse-my-plugin-plugin"
        (plugin / "plugin").mkdir(parents=True)
        (plugin / "plugin" / "__init__.py").write_text("")
        shutil.copy(SNIPPET, plugin / "plugin" / "train.py")
        (plugin / "config.yaml").write_text(CONFIG)
        env = {**os.environ, "SYNAPSE_HOME": str(Path(tmp) / "home")}
        params = '{"dataset_path": "/data/images", "epochs": 3}'
        commands = {
            "baseline": [sys.executable, "-c", "import pydantic, yaml"],
            "floor": [sys.executable, "-c", FLOOR],
            "run --debug": [SYNAPSE, "plugin", "run", "train", params, "--debug"],
            "run": [SYNAPSE, "plugin", "run", "train", params],
        }
        for cmd in commands.values():  # warm the page cache once
            timed(cmd, plugin, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(ROUNDS):
            for name, cmd in commands.items():
                times[name].append(timed(cmd, plugin, env))
    med = {name: statistics.median(values) for name, values in times.items()}
    base = med["baseline"]
    for name, value in med.items():
        print(f"{name:<12} median {value * 1000:7.1f} ms  ({value / base:.2f}x baseline)")
    ratio = med["run --debug"] / base
    print(f"synapse plugin run (recorded, in-process) / python -c 'import pydantic, yaml': {ratio:.2f}x "
          f"(target <= {TARGET}x) -> {'OK' if ratio <= TARGET else 'MISSED'}; "
          f"the floor of a pydantic-model plugin alone is {med['floor'] / base:.2f}x")  # fmt: skip
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
