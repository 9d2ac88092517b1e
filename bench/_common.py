"""Pieces the benchmarks share: a throwaway plugin folder and a bounded HTTP load loop."""

from __future__ import annotations

import textwrap
import threading
import time
from pathlib import Path
from typing import Any


def write_plugin(root: Path, config: str, modules: dict[str, str]) -> Path:
    """A plugin folder under ``root``: ``config.yaml`` plus ``plugin/<file>`` for each module."""
    plugin = root / "plugin-dir"
    (plugin / "plugin").mkdir(parents=True)
    (plugin / "plugin" / "__init__.py").write_text("")
    (plugin / "config.yaml").write_text(config)
    for name, source in modules.items():
        (plugin / "plugin" / name).write_text(textwrap.dedent(source))
    return plugin


def post_load(url: str, body: Any, requests: int, threads: int) -> float:
    """Requests per second: ``requests`` POSTs of ``body`` to ``url`` from ``threads`` clients."""
    import httpx

    per_thread = requests // threads
    failures: list[int] = []

    def worker() -> None:
        with httpx.Client(timeout=30) as client:
            for _ in range(per_thread):
                reply = client.post(url, json=body)
                if reply.status_code != 200:
                    failures.append(reply.status_code)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed: HTTP {sorted(set(failures))}")
    return per_thread * threads / elapsed
