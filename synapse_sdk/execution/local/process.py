"""Facts about local processes: alive, zombie, start-time fingerprint, signal names."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def start_fingerprint(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (guards against a reused pid), or None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def is_alive(pid: int | None, fingerprint: str | None = None) -> bool:
    """True if ``pid`` runs (not a zombie) and, when given, still has the same start time."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return True
    if fields[0] in ("Z", "X"):
        return False
    return fingerprint is None or fields[19] == fingerprint


def signal_name(number: int) -> str:
    """``SIGKILL`` for 9; ``unknown`` for a number that names no signal."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown"


def describe_exit(returncode: int) -> str:
    """``signal 9 (SIGKILL)`` for a negative return code, ``exit code N`` otherwise."""
    if returncode < 0:
        return f"signal {-returncode} ({signal_name(-returncode)})"
    return f"exit code {returncode}"
