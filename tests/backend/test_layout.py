"""The backend's public surface: exact ``__all__`` lists, one factory and cache, cheap imports."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from synapse_sdk.backend import get_backend
from synapse_sdk.backend.http import HttpBackend
from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.settings import Settings

PACKAGES = ["synapse_sdk.backend", "synapse_sdk.backend.http", "synapse_sdk.backend.store"]


@pytest.mark.parametrize("module", PACKAGES)
def test_all_lists_exactly_the_public_names(module):
    mod = importlib.import_module(module)
    ours = {  # the SDK's classes and functions it holds (not typing helpers or pathlib)
        name
        for name, value in vars(mod).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("synapse_sdk.")
    }
    assert set(mod.__all__) == ours


@pytest.mark.parametrize("module", [*PACKAGES, "synapse_sdk.backend.protocol", "synapse_sdk.backend.schemas"])
def test_importing_the_backend_loads_no_http_library(module):
    probe = f"import sys, json, {module}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert not {"httpx", "fastapi", "uvicorn", "starlette"} & {m.split(".")[0] for m in json.loads(out)}


def test_one_backend_per_database_and_per_server(tmp_path):
    here, there = Settings(home=tmp_path / "a"), Settings(home=tmp_path / "b")
    embedded = get_backend(here)
    assert isinstance(embedded, EmbeddedBackend)
    assert get_backend(Settings(home=tmp_path / "a")) is embedded  # equal settings, same backend
    assert get_backend(there) is not embedded
    assert embedded.runs.db is embedded.releases.db is embedded.db  # every resource, one database
    remote = get_backend(Settings(home=tmp_path / "a", host="http://127.0.0.1:9", access_token="t"))
    assert isinstance(remote, HttpBackend)
    assert remote is get_backend(Settings(home=tmp_path / "b", host="http://127.0.0.1:9", access_token="t"))
    assert remote.runs._http is remote.releases._http  # every resource, one transport
