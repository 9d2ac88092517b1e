"""On a terminal, `plugin run` draws rich progress bars; elsewhere it prints plain lines."""

from __future__ import annotations

import os
import select
import subprocess
import time

from tests.conftest import SYNAPSE


def run_in_terminal(args: list[str], cwd) -> tuple[int, str]:
    """Run the CLI with a real pseudo-terminal as stdout/stderr and collect what it drew."""
    master, slave = os.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm-256color"}
    proc = subprocess.Popen([SYNAPSE, *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=10), b"".join(chunks).decode(errors="replace")


def test_a_terminal_gets_progress_bars_per_category(demo_plugin):
    code, screen = run_in_terminal(
        ["plugin", "run", "train", '{"dataset_path": "/d", "epochs": 6}', "--debug"], demo_plugin
    )
    assert code == 0, screen
    assert "Model training" in screen  # the category's description from progress_categories
    assert "━" in screen  # a rich bar
    assert "6/6" in screen
    assert "Starting training..." in screen


def test_a_pipe_gets_plain_lines(demo_plugin):
    proc = subprocess.run(
        [SYNAPSE, "plugin", "run", "train", '{"dataset_path": "/d", "epochs": 2}', "--debug"],
        cwd=demo_plugin, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "━" not in proc.stderr
    assert "[progress] training: 2/2 (100%)" in proc.stderr
