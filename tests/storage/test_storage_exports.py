"""``synapse_sdk.storage`` lists exactly what it exports, and importing it loads no filesystem driver."""

from __future__ import annotations

import json
import subprocess
import sys

import synapse_sdk.storage as storage_module


def test_all_lists_exactly_the_public_names():
    public = {
        name
        for name, value in vars(storage_module).items()
        if not name.startswith("_") and not isinstance(value, type(sys)) and name != "annotations"
    }
    assert set(storage_module.__all__) == public


def test_importing_storage_loads_no_driver():
    probe = "import synapse_sdk.storage, sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    loaded = {name.split(".")[0] for name in json.loads(out)}
    assert not loaded & {"fsspec", "upath", "s3fs", "botocore", "aiobotocore", "aiohttp", "boto3"}
