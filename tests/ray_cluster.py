"""A real local Ray cluster for tests and benchmarks: own ports, own temp dir, stopped by its own means.

``ray stop`` would kill every Ray process on the machine (other sessions' clusters too), so
``local_ray_cluster()`` kills only the process group ``ray start`` made plus every descendant
of it (workers, Serve actors, job drivers), then removes its temp dir.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
CLUSTER_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
#: Only for the cluster: a runtime env that cannot be built fails after one try, not three.
SERVER_ENV = {"RUNTIME_ENV_RETRY_TIMES": "1"}


@dataclass(frozen=True)
class RayCluster:
    """A running test cluster: its GCS address, dashboard URL and Serve HTTP port."""

    address: str
    dashboard: str
    serve_port: int
    temp_dir: Path

    @property
    def env(self) -> dict[str, str]:
        """Environment for CLI subprocesses that talk to this cluster."""
        return {**CLUSTER_ENV, "SYNAPSE_RAY_ADDRESS": self.address}


def _free_ports(count: int, outside: range) -> list[int]:
    """``count`` distinct free ports, none of them in ``outside`` (the workers' range)."""
    socks, ports = [], []
    while len(ports) < count:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        socks.append(sock)
        if sock.getsockname()[1] not in outside:
            ports.append(sock.getsockname()[1])
    for sock in socks:
        sock.close()
    return ports


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, pgid) for every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
                table[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return table


def _cluster_pids(pgid: int) -> set[int]:
    table = _proc_table()
    found = {pid for pid, (_, group) in table.items() if group == pgid}
    grew = True
    while grew:
        more = {pid for pid, (ppid, _) in table.items() if ppid in found} - found
        found |= more
        grew = bool(more)
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _kill(pids: set[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


@contextmanager
def local_ray_cluster(num_cpus: int = 2) -> Iterator[RayCluster]:
    """Start ``ray start --head`` on 127.0.0.1 with free ports; tear it down on exit."""
    temp_dir = Path(tempfile.mkdtemp(prefix="sray-", dir="/tmp"))  # socket paths must stay short
    worker_base = 20000 + (os.getpid() % 200) * 100
    workers = range(worker_base, worker_base + 100)
    (gcs, dashboard, client, node_mgr, obj_mgr, agent_http, agent_grpc, env_agent, metrics, serve_port) = (
        _free_ports(10, outside=workers)
    )
    env = {
        **os.environ,
        **CLUSTER_ENV,
        **SERVER_ENV,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        RAY, "start", "--head", "--num-cpus", str(num_cpus), "--node-ip-address", "127.0.0.1",
        "--port", str(gcs), "--dashboard-host", "127.0.0.1", "--dashboard-port", str(dashboard),
        "--include-dashboard", "true", "--ray-client-server-port", str(client),
        "--node-manager-port", str(node_mgr), "--object-manager-port", str(obj_mgr),
        "--dashboard-agent-listen-port", str(agent_http), "--dashboard-agent-grpc-port", str(agent_grpc),
        "--runtime-env-agent-port", str(env_agent), "--metrics-export-port", str(metrics),
        "--min-worker-port", str(workers.start), "--max-worker-port", str(workers.stop - 1),
        "--temp-dir", str(temp_dir), "--disable-usage-stats",
    ]  # fmt: skip
    starter = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    output, _ = starter.communicate(timeout=120)
    saved = {k: os.environ.get(k) for k in CLUSTER_ENV}
    os.environ.update(CLUSTER_ENV)
    try:
        if starter.returncode != 0:
            raise RuntimeError(f"ray start failed ({starter.returncode}):\n{output[-3000:]}")
        yield RayCluster(f"127.0.0.1:{gcs}", f"http://127.0.0.1:{dashboard}", serve_port, temp_dir)
    finally:
        with contextlib.suppress(Exception):
            import ray

            ray.shutdown()
        pids = _cluster_pids(starter.pid)
        _kill(pids, signal.SIGTERM)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and any(_running(p) for p in pids):
            time.sleep(0.2)
        _kill(_cluster_pids(starter.pid) | pids, signal.SIGKILL)
        shutil.rmtree(temp_dir, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
