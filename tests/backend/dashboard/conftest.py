"""The dashboard's fixtures: a real ``synapse backend serve`` over the test's home, a logged-in page,
and a slow job plugin whose runs the pages watch (run by the real ``synapse plugin run``)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.conftest import SYNAPSE
from tests.servers import BackendServer

#: A job that logs, reports progress and a loss curve step by step, and writes artifacts.
SLOW_CONFIG = """\
code: slow-train
name: Slow Train
version: 0.1.0
category: neural_net
description: Counts slowly, for the dashboard's tests.
actions:
  count:
    entrypoint: plugin.count.Count
    method: job
"""
SLOW_SOURCE = """\
import time

from synapse_sdk.plugins.categories.base import Action


class Count(Action):
    name = "count"

    def start(self):
        steps = int(self.params.get("steps", 20))
        delay = float(self.params.get("delay", 0.2))
        for line in self.params.get("messages", []):
            self.run.log_message(line)
        for name, data in self.params.get("artifacts", {}).items():
            (self.run.path / name).write_bytes(bytes.fromhex(data))
        for i in range(1, steps + 1):
            time.sleep(delay)
            self.run.set_progress(i, steps, "training")
            self.run.set_metrics({"loss": 1.0 / i, "epoch": i}, "training")
            self.run.log_message(f"epoch {i} done")
        if self.params.get("fail"):
            raise RuntimeError(self.params["fail"])
        return {"final_loss": 1.0 / steps}
"""


def png_bytes(width: int, height: int, rgb: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    """A solid-colour PNG, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def dash(synapse_home: Path):  # type: ignore[no-untyped-def]
    """``synapse backend serve`` over the test's own SYNAPSE_HOME (the CLI's runs land in the same store)."""
    server = BackendServer(synapse_home).start()
    yield server
    server.stop()


@pytest.fixture
def slow_plugin(make_plugin):  # type: ignore[no-untyped-def]
    """The folder of the slow job plugin (``slow-train``, action ``count``)."""
    return make_plugin(SLOW_CONFIG, {"count.py": SLOW_SOURCE}, name="slow-train")


@pytest.fixture
def start_job(slow_plugin: Path, synapse_home: Path):  # type: ignore[no-untyped-def]
    """``start_job(job_id, **params)``: submit the slow job with the real CLI; returns at once."""

    def start(job_id: str, **params: object) -> str:
        env = {**os.environ, "SYNAPSE_HOME": str(synapse_home)}
        proc = subprocess.run(
            [SYNAPSE, "plugin", "run", "count", json.dumps(params), "--job-id", job_id],
            cwd=slow_plugin, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return job_id

    return start


@pytest.fixture
def page(browser, dash):  # type: ignore[no-untyped-def]
    """A fresh browser context logged in to ``dash`` through its login form; JS errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(f"{dash.url}/")
    assert tab.url.startswith(f"{dash.url}/login")
    tab.fill("input[name=token]", dash.token)
    tab.click("button[type=submit]")
    tab.wait_for_selector("h1:text('Runs')")
    yield tab
    context.close()
    assert errors == [], errors
