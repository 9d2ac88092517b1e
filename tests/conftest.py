"""Shared fixtures: a private SYNAPSE_HOME per test and tiny plugins written inline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO_PLUGIN = ROOT / "examples" / "synapse-demo-plugin"
SYNAPSE = str(Path(sys.executable).with_name("synapse"))


@pytest.fixture(autouse=True)
def synapse_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SYNAPSE_HOME (embedded SQLite store) for every test: nothing touches ~/.synapse."""
    home = tmp_path / "synapse-home"
    monkeypatch.setenv("SYNAPSE_HOME", str(home))
    for var in ("SYNAPSE_HOST", "SYNAPSE_ACCESS_TOKEN", "SYNAPSE_RAY_ADDRESS", "SYNAPSE_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def store(synapse_home: Path):  # type: ignore[no-untyped-def]
    """The embedded backend's runs under the test's SYNAPSE_HOME."""
    from synapse_sdk.backend import get_backend

    return get_backend().runs


@pytest.fixture
def make_plugin(tmp_path: Path) -> Callable[..., Path]:
    """Write a plugin folder: ``make_plugin(config_yaml, {"train.py": source})``."""

    def make(config: str, modules: dict[str, str] | None = None, name: str = "plugin-dir") -> Path:
        folder = tmp_path / name
        (folder / "plugin").mkdir(parents=True, exist_ok=True)
        (folder / "plugin" / "__init__.py").write_text("")
        (folder / "config.yaml").write_text(textwrap.dedent(config))
        for file, source in (modules or {}).items():
            (folder / "plugin" / file).write_text(textwrap.dedent(source))
        return folder

    return make


@pytest.fixture
def demo_plugin(tmp_path: Path) -> Path:
    """A copy of the spec's TrainAction example plugin."""
    folder = tmp_path / "synapse-demo-plugin"
    shutil.copytree(DEMO_PLUGIN, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One real S3-compatible server for the session: ``weed mini`` on 127.0.0.1, stopped by pid."""
    from tests.servers import SeaweedS3

    server = SeaweedS3(tmp_path_factory.mktemp("seaweed") / "weed").start()
    yield server
    server.stop()


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run the real ``synapse`` console script in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [SYNAPSE, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def backend_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real ``synapse backend serve`` on 127.0.0.1 (own home, token), stopped by pid at the end."""
    from tests.servers import BackendServer

    server = BackendServer(tmp_path / "server-home").start()
    yield server
    server.stop()


#: Debian's Chromium (``apt-get install -y chromium``; Playwright never downloads a browser here).
CHROMIUM = "/usr/bin/chromium"
#: Headless, and nothing that reaches outside the machine (NOTES.md).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.fixture(scope="session")
def chromium_endpoint(tmp_path_factory):  # type: ignore[no-untyped-def]
    """One headless Chromium for the whole session, stopped by its PID; its DevTools WebSocket URL.

    Playwright connects to it per module (``browser``): a Playwright sync session marks an asyncio
    loop as running in the main thread until it ends, and a session-long one would break every
    later ``asyncio.run`` of the suite (the SDK runs async actions so).
    """
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install it with 'apt-get install -y chromium'")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [CHROMIUM, *CHROMIUM_ARGS, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:  # Chromium prints the endpoint once it listens
        seen.append(line)
        if line.startswith("DevTools listening on "):
            break
    else:
        proc.wait(10)
        pytest.fail(f"Chromium did not start (exit {proc.returncode}): {''.join(seen)[-2000:]}")
    endpoint = line.removeprefix("DevTools listening on ").strip()
    drain = threading.Thread(target=proc.stderr.read, daemon=True)  # keep its pipe from filling
    drain.start()
    yield endpoint
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    drain.join(5)
    proc.stderr.close()


@pytest.fixture(scope="module")
def browser(chromium_endpoint):  # type: ignore[no-untyped-def]
    """The session's Chromium, driven by Playwright for one test module; open a context per test."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.connect_over_cdp(chromium_endpoint)
        yield chromium
        chromium.close()
