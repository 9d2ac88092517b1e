"""Cached release envs built for real with uv and pip against the package registry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synapse_sdk.errors import EnvBuildError
from synapse_sdk.runtime_env.spec import RuntimeEnvSpec
from synapse_sdk.runtime_env.venv import (
    MARKER,
    ensure_env,
    envs_dir,
    list_envs,
    prune_envs,
    worker_requirements,
)

pytestmark = pytest.mark.slow

SIX_OLD = RuntimeEnvSpec(requirements=("six==1.16.0",), package_manager="uv", options=())

BUILD = """
import logging, sys
from pathlib import Path
from synapse_sdk.runtime_env.spec import RuntimeEnvSpec
from synapse_sdk.runtime_env.venv import ensure_env
logging.basicConfig(level=logging.INFO, format="%(message)s")
spec = RuntimeEnvSpec(requirements=tuple(sys.argv[2].split(",")), package_manager="uv",
                      options=tuple(a for a in sys.argv[3:]))
print(ensure_env(spec, Path(sys.argv[1])))
"""


def run_python(python: Path | str, code: str) -> str:
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_no_requirements_is_the_fast_path(synapse_home: Path) -> None:
    assert ensure_env(RuntimeEnvSpec(package_manager="uv"), synapse_home) == Path(sys.executable)
    assert not envs_dir(synapse_home).exists()


def test_uv_env_has_the_pinned_package_and_the_sdk_and_is_reused(synapse_home: Path) -> None:
    python = ensure_env(SIX_OLD, synapse_home)
    assert python != Path(sys.executable)
    out = run_python(
        python, "import six, synapse_sdk.execution.local.worker, sys; print(six.__version__, sys.prefix)"
    )
    version, prefix = out.split()
    assert version == "1.16.0"
    assert Path(prefix) == python.parent.parent
    marker = python.parent.parent / MARKER
    meta = json.loads(marker.read_text())
    assert meta["requirements"] == ["six==1.16.0"]
    assert meta["worker_requirements"] == list(worker_requirements())
    inode = marker.stat().st_ino
    started = time.perf_counter()
    assert ensure_env(SIX_OLD, synapse_home) == python
    assert time.perf_counter() - started < 0.05
    assert marker.stat().st_ino == inode  # not rebuilt
    assert [e.key for e in list_envs(synapse_home)] == [python.parent.parent.name]


@pytest.mark.parametrize("manager", ["uv", "pip"])
def test_unknown_requirement_names_the_package_and_leaves_nothing_cached(
    synapse_home: Path, manager: str
) -> None:
    spec = RuntimeEnvSpec(requirements=("synapse-no-such-package-4f2a9c==1.0",), package_manager=manager)
    unknown = r"requirement 'synapse-no-such-package-4f2a9c' cannot be satisfied"
    with pytest.raises(EnvBuildError, match=unknown) as info:
        ensure_env(spec, synapse_home, label="bad@1.0.0")
    assert f"({manager} exited with 1)" in str(info.value)
    leftovers = [p.name for p in envs_dir(synapse_home).iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []
    assert list_envs(synapse_home) == []


def test_concurrent_builds_of_one_env_build_once_and_both_succeed(synapse_home: Path) -> None:
    args = [sys.executable, "-c", BUILD, str(synapse_home), "six==1.16.0"]
    procs = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    pythons = {out.strip() for out, _ in results}
    assert len(pythons) == 1
    builds = sum(err.count("building env") for _, err in results)
    assert builds == 1
    assert run_python(pythons.pop(), "import six; print(six.__version__)") == "1.16.0"
    assert not list(envs_dir(synapse_home).glob(".tmp-*"))


def test_a_build_killed_mid_install_is_never_reused(synapse_home: Path) -> None:
    # --no-cache makes the install download for real, so there is a window to kill it in.
    args = [sys.executable, "-c", BUILD, str(synapse_home), "six==1.17.0", "--no-cache"]
    proc = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    root = envs_dir(synapse_home)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(root.glob(".tmp-*/lib/python*/site-packages/*.pth")):
        time.sleep(0.005)
    time.sleep(0.1)  # the .pth is written just before `uv pip install` starts
    os.killpg(proc.pid, signal.SIGKILL)  # the builder and its uv child, mid-install
    proc.wait()
    assert list(root.glob(".tmp-*")), "the build was killed before it started installing"
    assert list_envs(synapse_home) == []  # the half-built env is not visible
    spec = RuntimeEnvSpec(requirements=("six==1.17.0",), package_manager="uv", options=("--no-cache",))
    python = ensure_env(spec, synapse_home)
    assert run_python(python, "import six; print(six.__version__)") == "1.17.0"
    assert not list(root.glob(".tmp-*"))  # the interrupted build was cleaned up


def test_pip_env_applies_the_default_options(synapse_home: Path) -> None:
    from synapse_sdk.plugins.config import PluginConfig

    config = PluginConfig.from_dict(
        {"code": "p", "name": "P", "version": "1.0.0", "category": "neural_net",
         "actions": {"train": {"entrypoint": "plugin.train.Train"}}}
    )  # fmt: skip
    assert config.package_manager == "pip" and config.package_manager_options == ["--upgrade"]
    spec = RuntimeEnvSpec(requirements=("six==1.16.0",), package_manager="pip", options=("--upgrade",))
    python = ensure_env(spec, synapse_home)
    assert run_python(python, "import six; print(six.__version__)") == "1.16.0"
    assert run_python(python, "import pip; print('pip')") == "pip"  # pip did the install, inside the env
    assert list_envs(synapse_home)[0].package_manager == "pip"


def test_prune_removes_envs_and_interrupted_builds(synapse_home: Path) -> None:
    python = ensure_env(SIX_OLD, synapse_home)
    leftover = envs_dir(synapse_home) / ".tmp-0123456789abcdef01234567-dead"
    leftover.mkdir()
    assert prune_envs(synapse_home, older_than=3600) == [leftover]
    assert python.exists()
    assert prune_envs(synapse_home) == [python.parent.parent]
    assert list_envs(synapse_home) == []
