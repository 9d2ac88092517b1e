"""One virtual environment per ``RuntimeEnvSpec`` key, built with uv or pip, file-locked and atomic.

A build happens in ``envs/.tmp-<key>-<random>`` and is renamed to ``envs/<key>`` only when it is
complete, so an interrupted build (even ``kill -9``) is never reused. The SDK is importable in
every env through a ``.pth`` file pointing at a folder that links to this SDK's package; the few
packages the worker itself imports (pydantic, PyYAML, httpx) are installed beside the plugin's
requirements, so the resolver checks that they agree.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from synapse_sdk._version import DISTRIBUTION
from synapse_sdk.errors import EnvBuildError
from synapse_sdk.runtime_env.lock import explain_failure, find_uv
from synapse_sdk.runtime_env.spec import RuntimeEnvSpec

MARKER = "synapse-env.json"
#: Folder in each env holding a link to this SDK's ``synapse_sdk`` package (named after the distribution).
SDK_LINK_DIR = DISTRIBUTION
#: Distributions the worker imports inside a release env; their specifiers come from our metadata.
WORKER_DISTRIBUTIONS = ("pydantic", "pyyaml", "httpx")
_FALLBACK_WORKER_REQUIREMENTS = ("pydantic>=2.6", "PyYAML>=6.0", "httpx>=0.27")
KEY_LENGTH = 24
logger = logging.getLogger(__name__)


def worker_requirements() -> tuple[str, ...]:
    """Requirement specifiers for what the worker imports, as declared by this SDK's distribution."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        declared = requires(DISTRIBUTION) or []
    except PackageNotFoundError:
        return _FALLBACK_WORKER_REQUIREMENTS
    found = []
    for req in declared:
        if ";" in req:
            continue  # extras and markers: not needed by the worker
        name = req.split("[")[0].split("<")[0].split(">")[0].split("=")[0].split("!")[0].split("~")[0]
        if name.strip().lower() in WORKER_DISTRIBUTIONS:
            found.append(req.replace(" ", ""))
    return tuple(sorted(found)) or _FALLBACK_WORKER_REQUIREMENTS


def envs_dir(home: Path) -> Path:
    """Where the env cache lives: ``SYNAPSE_HOME/envs``."""
    return home / "envs"


def env_python(env: Path) -> Path:
    """The interpreter of a built env."""
    return env / "bin" / "python"


@dataclass(frozen=True)
class EnvInfo:
    """A cached env as ``synapse env list`` shows it."""

    key: str
    path: Path
    package_manager: str
    requirements: list[str]
    python: str
    created_at: float
    last_used: float
    build_seconds: float


class BuildObserver(Protocol):
    """Told when an env is actually built (a cached one tells nothing): to show it as a phase."""

    def started(self, package_manager: str, packages: int) -> None:
        """The build begins: ``packages`` requirement lines, with ``package_manager``."""

    def finished(self, seconds: float) -> None:
        """The env is ready after ``seconds``."""

    def failed(self, seconds: float, error: str) -> None:
        """The build failed after ``seconds``; ``error`` is the message raised next."""


def needs_build(spec: RuntimeEnvSpec, home: Path) -> bool:
    """True when :func:`ensure_env` would build (no complete env for ``spec`` in the cache yet)."""
    if spec.is_empty:
        return False
    return not _ready(envs_dir(home) / spec.key(extra=worker_requirements())[:KEY_LENGTH])


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``; the kernel releases it if the holder dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def ensure_env(
    spec: RuntimeEnvSpec,
    home: Path,
    *,
    label: str = "plugin",
    observer: BuildObserver | None = None,
    build_log: Path | None = None,
) -> Path:
    """The interpreter to run a plugin with: the current one for an empty spec, else its cached env.

    Reusing an env costs a stat; building takes the env's file lock so concurrent callers build
    once. ``observer`` is told when a build starts and ends; a build that fails writes the output
    of its commands to ``build_log`` (when given), which the error names.
    """
    if spec.is_empty:
        return Path(sys.executable)
    extra = worker_requirements()
    key = spec.key(extra=extra)[:KEY_LENGTH]
    root = envs_dir(home)
    final = root / key
    if _ready(final):
        _touch(final / MARKER)
        return env_python(final)
    with file_lock(root / f".{key}.lock"):
        if _ready(final):
            return env_python(final)
        for stale in root.glob(f".tmp-{key}-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted build
        if final.exists():
            shutil.rmtree(final)  # no marker, or its base interpreter is gone: never trusted
        tmp = root / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
        logger.info("building env %s for %s with %s", key, label, spec.package_manager)
        started = time.monotonic()
        if observer is not None:
            observer.started(spec.package_manager, len(spec.requirements))
        output: list[str] = []
        try:
            try:
                _build(spec, tmp, extra, label, output)
            except EnvBuildError as exc:
                error = _kept(exc, output, build_log)
                if observer is not None:
                    observer.failed(time.monotonic() - started, str(error))
                raise error from exc.__cause__
            meta = {
                "key": key,
                "package_manager": spec.package_manager,
                "options": list(spec.options),
                "requirements": list(spec.requirements),
                "worker_requirements": list(extra),
                "python": sys.version.split()[0],
                "created_at": time.time(),
                "build_seconds": round(time.monotonic() - started, 3),
            }
            (tmp / MARKER).write_text(json.dumps(meta, indent=2))
            tmp.rename(final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    if observer is not None:
        observer.finished(time.monotonic() - started)
    return env_python(final)


def _kept(exc: EnvBuildError, output: list[str], build_log: Path | None) -> EnvBuildError:
    """``exc``, naming ``build_log`` once the build's output is written there (if it can be)."""
    if build_log is None:
        return exc
    try:
        build_log.parent.mkdir(parents=True, exist_ok=True)
        build_log.write_text("".join(output) or "(no output)\n", encoding="utf-8")
    except OSError as os_exc:
        return EnvBuildError(f"{exc} (its build log could not be written to {build_log}: {os_exc.strerror})")
    return EnvBuildError(f"{exc}; the build log is {build_log}")


def _ready(env: Path) -> bool:
    """Complete (marker written last) and its interpreter still resolves (the base Python exists)."""
    return (env / MARKER).is_file() and env_python(env).exists()


def _build(spec: RuntimeEnvSpec, env: Path, extra: tuple[str, ...], label: str, output: list[str]) -> None:
    uv = find_uv()
    seed = ["--seed"] if spec.package_manager == "pip" else []
    _run([uv, "venv", "--quiet", "--relocatable", *seed, "--python", sys.executable, str(env)], label, output)
    site = _site_packages(env)
    sdk_links = env / SDK_LINK_DIR
    sdk_links.mkdir()
    (sdk_links / "synapse_sdk").symlink_to(Path(__file__).resolve().parents[1], target_is_directory=True)
    # Relative to site-packages, so the line stays right after the env is renamed into place.
    (site / "_synapse_sdk.pth").write_text(os.path.relpath(sdk_links, site) + "\n")
    reqs = env / "requirements.txt"
    reqs.write_text(spec.requirements_text())
    python = str(env_python(env))
    if spec.package_manager == "uv":
        # Bytecode now, not at every run (PYTHONDONTWRITEBYTECODE may be set where workers run).
        cmd = [uv, "pip", "install", "--compile-bytecode", "--python", python, *spec.options, "-r", str(reqs),
               *extra]  # fmt: skip
    else:
        cmd = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
               *spec.options, "-r", str(reqs), *extra]  # fmt: skip
    _run(cmd, label, output)


def _site_packages(env: Path) -> Path:
    found = sorted(env.glob("lib/python*/site-packages"))
    if not found:
        raise EnvBuildError(f"{env}: the new virtual environment has no site-packages folder")
    return found[0]


def _run(cmd: list[str], label: str, output: list[str]) -> None:
    env = {**os.environ}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    output.append(f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}(exit {proc.returncode})\n")
    if proc.returncode != 0:
        tool = "uv" if Path(cmd[0]).name.startswith("uv") else "pip"
        raise EnvBuildError(
            f"cannot build the environment of {label}: {explain_failure(proc.stderr + proc.stdout)} "
            f"({tool} exited with {proc.returncode}); fix requirements.txt or package_manager_options "
            "in config.yaml and publish a new version"
        )


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)


def list_envs(home: Path) -> list[EnvInfo]:
    """The complete envs in the cache, most recently used first."""
    found = []
    for marker in envs_dir(home).glob(f"*/{MARKER}"):
        try:
            meta = json.loads(marker.read_text())
        except (OSError, ValueError):
            continue
        found.append(
            EnvInfo(
                key=marker.parent.name,
                path=marker.parent,
                package_manager=meta.get("package_manager", "?"),
                requirements=list(meta.get("requirements", [])),
                python=meta.get("python", "?"),
                created_at=float(meta.get("created_at", 0)),
                last_used=marker.stat().st_mtime,
                build_seconds=float(meta.get("build_seconds", 0)),
            )
        )
    return sorted(found, key=lambda e: e.last_used, reverse=True)


def prune_envs(home: Path, older_than: float | None = None) -> list[Path]:
    """Remove interrupted builds and envs unused for ``older_than`` seconds (all when None)."""
    root = envs_dir(home)
    removed: list[Path] = []
    now = time.time()
    for info in list_envs(home):
        if older_than is not None and now - info.last_used < older_than:
            continue
        with file_lock(root / f".{info.key}.lock"):
            shutil.rmtree(info.path, ignore_errors=True)
        removed.append(info.path)
    for leftover in root.glob(".tmp-*"):
        key = leftover.name.split("-")[1]
        with file_lock(root / f".{key}.lock"):  # a build in progress holds this lock
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
                removed.append(leftover)
    for entry in root.glob("*"):
        if entry.is_dir() and not entry.name.startswith(".") and not (entry / MARKER).is_file():
            shutil.rmtree(entry, ignore_errors=True)  # incomplete: never trusted
            removed.append(entry)
    return removed
