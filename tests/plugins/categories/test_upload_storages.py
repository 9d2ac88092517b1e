"""The same upload into an S3 storage on a real server (SeaweedFS on 127.0.0.1), and over HTTP to a
real ``synapse backend serve``."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from synapse_sdk.clients.backend import BackendClient, get_backend_client
from synapse_sdk.plugins.testing import run_action
from tests.conftest import run_cli
from tests.plugins.categories.upload_platform import (
    pairs_collection,
    png,
    units_of,
    upload_plugin,
    write_pairs,
)
from tests.servers import SeaweedS3

__all__ = ["upload_plugin"]  # the fixture, imported for the tests below


@pytest.fixture
def remote(backend_server):  # type: ignore[no-untyped-def]
    """A client of the test's ``synapse backend serve``, closed at the end."""
    client = BackendClient(backend_server.url, access_token=backend_server.token)
    yield client
    client.backend.close()


def s3_storage(client: BackendClient, server: SeaweedS3, bucket: str, **config: str) -> dict:
    """A platform storage for ``bucket`` on ``server``."""
    configuration = {
        "bucket": bucket, "endpoint_url": server.endpoint_url, "region": "us-east-1",
        "access_key_id": server.access_key, "secret_access_key": server.secret_key, **config,
    }  # fmt: skip
    return client.create_storage({"name": bucket, "provider": "s3", "configuration": configuration})


def test_an_upload_into_an_s3_storage_stores_each_file_once_by_content(
    upload_plugin, tmp_path, synapse_home, s3_server
):
    client = get_backend_client()
    bucket = s3_server.create_bucket(f"uploads-{uuid.uuid4().hex[:12]}")
    storage = s3_storage(client, s3_server, bucket, prefix="team")
    write_pairs(tmp_path / "data", 3)
    big = tmp_path / "data" / "image" / "big.png"
    big.write_bytes(png(7) + bytes(range(256)) * 40_000)  # ~10 MB: a multipart upload (8 MiB parts)
    collection = pairs_collection(client)
    params = {
        "name": "s3",
        "storage": storage["id"],
        "data_collection": collection["id"],
        "path": str(tmp_path / "data"),
    }

    first = run_action(upload_plugin(), "upload", params, home=synapse_home).result
    again = run_action(upload_plugin(), "upload", params, home=synapse_home).result

    assert (first["uploaded"], first["data_units"], first["storage"]) == (7, 4, storage["id"])
    assert (again["uploaded"], again["skipped"], again["data_units_existing"]) == (0, 7, 4)
    listed = s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert len(listed) == 7 and all(o["Key"].startswith("team/data_files/") for o in listed)
    unit = next(u for u in units_of(client, collection["id"]) if "label" not in u["files"])
    key = f"team/{unit['files']['image']['path']}"
    body = s3_server.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(big.read_bytes()).hexdigest()


def test_an_upload_over_http_reaches_the_server(upload_plugin, tmp_path, backend_server, remote):
    collection = pairs_collection(remote)
    project = remote.create_project({"title": "remote", "data_collection": collection["id"]})
    write_pairs(tmp_path / "data", 3)
    params = {
        "name": "http",
        "data_collection": collection["id"],
        "project": project["id"],
        "path": str(tmp_path / "data"),
    }
    env = {**backend_server.client_env, "SYNAPSE_HOME": str(tmp_path / "client-home")}

    runs = [
        run_cli("plugin", "run", "upload", json.dumps(params), "--debug", cwd=upload_plugin(), env=env)
        for _ in range(2)
    ]

    assert all(run.returncode == 0 for run in runs), runs[-1].stderr
    first, again = (json.loads(run.stdout) for run in runs)
    assert (first["uploaded"], first["data_units_created"], first["tasks_created"]) == (6, 3, 3)
    assert (again["uploaded"], again["skipped"], again["tasks_created"], again["tasks_existing"]) == (
        0,
        6,
        0,
        3,
    )
    assert len(units_of(remote, collection["id"])) == 3
    stored = backend_server.home / "storages" / "default" / "data_files"
    assert len([p for p in stored.rglob("*") if p.is_file()]) == 6


def test_storage_failures_are_retried_then_fail_their_units(upload_plugin, tmp_path, synapse_home, s3_server):
    """A bucket that is not there: the storage fails every file; each batch is tried 1 + 2 times."""
    client = get_backend_client()
    storage = s3_storage(client, s3_server, f"missing-{uuid.uuid4().hex[:12]}")
    write_pairs(tmp_path / "data", 2)
    collection = pairs_collection(client)
    params = {"name": "down", "storage": storage["id"], "data_collection": collection["id"],
              "path": str(tmp_path / "data"), "upload_max_retries": 2}  # fmt: skip

    run = run_action(upload_plugin(), "upload", params, home=synapse_home, check=False)

    assert run.status == "FAILED" and "every data unit failed" in run.error
    retries = [log.message for log in run.logs if log.message and "trying again" in log.message]
    assert [m.split("trying again in ")[1] for m in retries] == ["0.2s", "0.4s"]
    assert retries[0].startswith("4 file(s) failed (") and units_of(client, collection["id"]) == []
