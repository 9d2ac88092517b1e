"""Real servers for tests: ``synapse`` subprocesses on 127.0.0.1, health polled with a deadline."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.conftest import SYNAPSE


def free_port() -> int:
    """An ephemeral TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Poll ``url`` until it answers 200; fail early if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def stop_process(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM the process by its pid, then SIGKILL after ``grace`` seconds."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


class BackendServer:
    """``synapse backend serve`` in a subprocess with its own SYNAPSE_HOME and token."""

    def __init__(self, home: Path, token: str = "test-token-0123456789", port: int | None = None) -> None:
        self.home = home
        self.token = token
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = home.parent / f"backend-{self.port}.log"

    @property
    def client_env(self) -> dict[str, str]:
        """What a worker needs to report to this server."""
        return {"SYNAPSE_HOST": self.url, "SYNAPSE_ACCESS_TOKEN": self.token}

    def start(self) -> BackendServer:
        """Start (or restart on the same port) and wait for ``/health``."""
        env = {**os.environ, "SYNAPSE_HOME": str(self.home), "SYNAPSE_ACCESS_TOKEN": self.token}
        env.pop("SYNAPSE_HOST", None)
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [SYNAPSE, "backend", "serve", "--port", str(self.port)],
                env=env, stdout=log, stderr=log,
            )  # fmt: skip
        wait_healthy(f"{self.url}/health", self.proc)
        return self

    def stop(self) -> None:
        """Stop the server process by its pid."""
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None
