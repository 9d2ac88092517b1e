"""Reaching a Ray cluster: a bounded reachability check first, then Ray's own clients.

``ray.init`` against an address nobody listens on retries for minutes, so every entry point
first opens a plain TCP connection with a timeout (``SYNAPSE_RAY_CONNECT_TIMEOUT``, default
5 s) and turns a failure into one ``ExecutionError`` that says what to check.

Every Ray executor also shares from here: ``RayExecutor`` (settings, address, resources),
``resources`` and ``ray_runtime_env`` (what a run asks Ray for) and ``ray_reason`` (Ray's
error text in one line).

Addresses are what Ray accepts: ``HOST:PORT`` (the GCS, default port 6379),
``ray://HOST:PORT`` (Ray Client, 10001), ``http://HOST:PORT`` (the dashboard, 8265; Jobs only)
or ``auto`` (the cluster started on this machine).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ExecutionError, UsageError

if TYPE_CHECKING:
    from synapse_sdk.execution.runner import Prepared
    from synapse_sdk.settings import Settings

NAMESPACE = "synapse"
DEFAULT_PORTS = {"": 6379, "ray": 10001, "http": 8265, "https": 443}

_connected: str | None = None
_dashboard: str | None = None
_clients: dict[str, Any] = {}


def connect_timeout() -> float:
    """Seconds to wait for a cluster to answer before giving up."""
    return float(os.environ.get("SYNAPSE_RAY_CONNECT_TIMEOUT") or 5)


def split_address(address: str) -> tuple[str, str, int]:
    """``"ray://h:1"`` -> ``("ray", "h", 1)``; a missing port gets the scheme's default."""
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "", address
    rest = rest.rstrip("/")
    host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", "")
    if not host or scheme not in DEFAULT_PORTS or (port and not port.isdigit()):
        raise UsageError(
            f"--ray-address {address!r}: expected HOST:PORT like '127.0.0.1:6379', "
            "'ray://HOST:10001', 'http://HOST:8265' or 'auto'"
        )
    return scheme, host, int(port) if port else DEFAULT_PORTS[scheme]


def check_reachable(address: str) -> None:
    """Raise ``ExecutionError`` fast if nothing answers at ``address`` (``auto`` is not checked)."""
    if address == "auto":
        return
    _, host, port = split_address(address)
    timeout = connect_timeout()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ExecutionError(
            f"Ray cluster at {address!r} is unreachable ({host}:{port}: {reason} within {timeout:g}s); "
            "start one with 'ray start --head' or fix --ray-address / SYNAPSE_RAY_ADDRESS"
        ) from exc


def connect(address: str) -> str | None:
    """Connect this process to the cluster at ``address`` once; return its dashboard address."""
    global _connected, _dashboard
    import ray

    if ray.is_initialized():
        if _connected in (None, address):
            return _dashboard
        raise UsageError(f"this process is connected to Ray at {_connected!r}, not {address!r}")
    if address.startswith(("http://", "https://")):
        raise UsageError(
            f"--ray-address {address!r} is a dashboard address, which only Ray Jobs accept; "
            "give the cluster address instead, like '127.0.0.1:6379' or 'ray://HOST:10001'"
        )
    check_reachable(address)
    try:
        context = ray.init(
            address=address,
            namespace=NAMESPACE,
            logging_level=logging.WARNING,
            log_to_driver=False,
            configure_logging=False,
        )
    except Exception as exc:
        raise ExecutionError(f"cannot connect to Ray at {address!r}: {type(exc).__name__}: {exc}") from exc
    _connected = address
    _dashboard = getattr(context, "dashboard_url", None) or None
    return _dashboard


def job_client(address: str) -> Any:
    """A ``JobSubmissionClient`` for ``address`` (a cluster or dashboard address)."""
    client = _clients.get(address)
    if client is not None:
        return client
    check_reachable(address)
    from ray.job_submission import JobSubmissionClient

    try:
        client = _clients[address] = JobSubmissionClient(address)
        return client
    except Exception as exc:
        raise ExecutionError(
            f"cannot reach the Ray Jobs API at {address!r}: {type(exc).__name__}: {exc}; "
            "the cluster needs its dashboard (ray start --head --include-dashboard true)"
        ) from exc


class RayExecutor:
    """What every Ray executor holds: settings, the cluster address and resource overrides."""

    def __init__(
        self,
        settings: Settings,
        address: str,
        *,
        num_cpus: float | None = None,
        num_gpus: float | None = None,
    ) -> None:
        self.check(address)  # fails fast (bounded), before any run is recorded
        self.settings = settings
        self.address = address
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus

    @staticmethod
    def check(address: str) -> None:
        """Raise if the cluster at ``address`` cannot be used; called before anything is recorded."""
        raise NotImplementedError


def ray_reason(exc: BaseException | str, limit: int = 600) -> str:
    """Ray's error text in one line: its first line plus the lines that say ``ERROR``."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    picked = [lines[0]]
    for line in lines[1:]:
        if line.startswith("ERROR") and line not in picked and len(picked) < 4:
            picked.append(line)
    if len(picked) == 1 and len(lines) > 1:
        picked.append(lines[-1])  # a traceback's last line names the exception
    text = " | ".join(picked)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def resources(prepared: Prepared, num_cpus: float | None, num_gpus: float | None) -> dict[str, float]:
    """Ray resource options: the flags if given, else the action's config.yaml values."""
    action = prepared.config.actions[prepared.invocation.action]
    chosen = {
        "num_cpus": num_cpus if num_cpus is not None else action.num_cpus,
        "num_gpus": num_gpus if num_gpus is not None else action.num_gpus,
    }
    return {k: v for k, v in chosen.items() if v is not None}


def ray_runtime_env(prepared: Prepared, settings: Settings) -> dict[str, Any]:
    """The Ray runtime env of the action: its ``get_runtime_env()`` plus the backend settings."""
    from synapse_sdk.runtime_env.ray import backend_env_vars, to_ray_runtime_env

    inv = prepared.invocation
    action = prepared.action_class.bare(prepared.config, inv.envs, plugin_path=inv.path)
    return to_ray_runtime_env(
        action.get_runtime_env(), prepared.config.package_manager, extra_env_vars=backend_env_vars(settings)
    )
