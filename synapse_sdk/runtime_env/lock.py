"""Resolve ``requirements.txt`` into a lock with ``uv pip compile``; installer failures as one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from synapse_sdk._version import DISTRIBUTION
from synapse_sdk.errors import EnvBuildError

_NOT_FOUND = [
    re.compile(r"Because ([A-Za-z0-9._\-\[\]]+) was not found in the package registry"),
    re.compile(r"No matching distribution found for ([^\s]+)"),
    re.compile(r"Because there is no version of ([^\s]+)"),
    re.compile(r"Because only ([^\s]+) is available"),
]


def find_uv() -> str:
    """The ``uv`` binary shipped with the ``uv`` Python package (not whatever is on PATH)."""
    try:
        from uv import find_uv_bin
    except ImportError:  # pragma: no cover - uv is a base dependency
        raise EnvBuildError(f"the 'uv' package is not installed; reinstall {DISTRIBUTION}") from None
    return find_uv_bin()


def explain_failure(output: str) -> str:
    """The one line that matters in a resolver's or installer's error output."""
    flat = " ".join(output.split())  # uv wraps long lines
    for pattern in _NOT_FOUND:
        match = pattern.search(flat)
        if match:
            name = re.split(r"[<>=!~;\[ ]", match.group(1).rstrip(",."))[0]
            reason = _last_reason(output)
            return f"requirement {name!r} cannot be satisfied from the package registry: {reason}"
    return _last_reason(output)


def _last_reason(output: str) -> str:
    raw = [ln.strip(" ×╰─▶│") for ln in output.splitlines()]
    errors = [ln for ln in raw if ln.startswith(("ERROR:", "error:", "cause:"))]  # pip's and uv's own
    lines = [re.sub(r"^(error|cause|hint|ERROR):\s*", "", ln) for ln in (errors or raw)]
    lines = [ln for ln in lines if ln and not ln.startswith(("Using ", "Resolved ", "Prepared "))]
    return " ".join(lines[-3:]) if lines else "no output"


def compile_lock(folder: Path, extra: list[str] | None = None) -> str:
    """Pin the folder's requirements.txt plus ``extra`` requirements, with dependencies, for this Python."""
    info = sys.version_info
    lines = ["-r requirements.txt"] if (folder / "requirements.txt").is_file() else []
    lines += list(extra or [])
    cmd = [find_uv(), "pip", "compile", "--quiet", "--no-header", "--python-version",
           f"{info.major}.{info.minor}", "-"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=folder, input="\n".join(lines) + "\n", capture_output=True, text=True)
    if proc.returncode != 0:
        where = folder / "requirements.txt"
        also = f" (with {', '.join(extra)} from get_runtime_env())" if extra else ""
        raise EnvBuildError(
            f"{where}: cannot resolve the requirements{also}: {explain_failure(proc.stderr)}; "
            "fix the name or version in requirements.txt"
        )
    return proc.stdout
