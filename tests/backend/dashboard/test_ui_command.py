"""``synapse ui``: the embedded store's dashboard on 127.0.0.1, behind a fresh token in the printed link."""

from __future__ import annotations

import os
import socket
import subprocess
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.conftest import SYNAPSE, run_cli
from tests.servers import stop_process


def _start_ui(synapse_home) -> tuple[subprocess.Popen[str], str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "SYNAPSE_HOME": str(synapse_home)}
    proc = subprocess.Popen(
        [SYNAPSE, "ui"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def test_synapse_ui_prints_a_link_that_logs_in(browser, synapse_home, store):
    from synapse_sdk.backend.schemas import NewRun

    store.create_run(NewRun(id="seen-by-ui", plugin_code="p", action="a"))
    proc, url = _start_ui(synapse_home)
    other = None
    try:
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1" and parts.path == "/login", url
        token = parse_qs(parts.query)["token"][0]
        assert len(token) >= 40
        base = f"http://127.0.0.1:{parts.port}"
        assert httpx.get(f"{base}/runs").status_code == 401  # the token is needed
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector("tr.run-row[data-run-id='seen-by-ui']")
            assert page.url == f"{base}/"  # the token left the address bar
        finally:
            context.close()
        other, other_url = _start_ui(synapse_home)
        assert parse_qs(urlsplit(other_url).query)["token"][0] != token  # fresh every time
    finally:
        stop_process(proc)  # type: ignore[arg-type]
        if other is not None:
            stop_process(other)  # type: ignore[arg-type]
        for p in (proc, other):
            if p is not None:
                p.stdout.close()
                p.stderr.close()


def test_a_port_in_use_is_one_line_and_exit_2():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_cli("ui", "--port", str(port), timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"Error: --port {port}: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "choose another port, or 0 for any free one"
    ]
