"""No input gives a server error: schemathesis drives every operation of the backend's OpenAPI schema.

A real ``synapse backend serve`` on 127.0.0.1 with its token; schemathesis generates requests
from ``/openapi.json`` (its coverage, fuzzing and stateful phases, a bounded number of examples
per operation, a fixed seed) and checks that no response is 5xx. What such runs found before
(141 x 500: ZeroDivisionError, non-ASCII base64, huge integers, list-valued fields, lone
surrogates) is pinned one by one in ``test_bad_input.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import BackendServer

ST = Path(sys.executable).parent / "st"
EXAMPLES = 10


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = BackendServer(tmp_path_factory.mktemp("fuzz") / "home").start()
    yield server
    server.stop()


@pytest.mark.timeout(600)
def test_no_generated_request_gets_a_server_error(server, tmp_path):
    result = subprocess.run(
        [
            str(ST), "run", f"{server.url}/openapi.json", "-H", f"Authorization: Bearer {server.token}",
            "--checks", "not_a_server_error", "--max-examples", str(EXAMPLES), "--seed", "1",
            "--no-color", "--report-dir", str(tmp_path),
        ],
        capture_output=True, text=True, timeout=540, cwd=tmp_path,
    )  # fmt: skip
    counts = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert result.returncode == 0 and counts, result.stdout[-6000:]
    generated, passed = map(int, counts.groups())
    assert generated > 1000 and passed == generated  # none answered 5xx
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", result.stdout)
    assert selected and len(set(selected.groups())) == 1, result.stdout[-3000:]  # every operation tested
