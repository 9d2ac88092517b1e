"""Releases through a real `synapse backend serve`: publish, list, run, and checksums checked both ways."""

from __future__ import annotations

import json

import pytest

from synapse_sdk.backend.http import HttpBackend
from synapse_sdk.backend.schemas import NewRelease
from synapse_sdk.errors import BackendError, ChecksumMismatch, PluginNotFound
from synapse_sdk.packaging.checksum import sha256_bytes
from tests.conftest import run_cli


def test_publish_list_and_run_through_the_http_backend(demo_plugin, backend_server, tmp_path):
    env = {**backend_server.client_env, "SYNAPSE_HOME": str(tmp_path / "client-home")}
    proc = run_cli("plugin", "publish", cwd=demo_plugin, env=env)
    assert proc.returncode == 0, proc.stderr
    published = json.loads(proc.stdout)
    assert published["created"]
    assert (backend_server.home / "archives" / f"{published['checksum']}.tar.gz").is_file()
    assert json.loads(run_cli("plugin", "publish", cwd=demo_plugin, env=env).stdout)["created"] is False
    listing = run_cli("plugin", "releases", "demo-train", env=env)
    assert published["checksum"] in listing.stdout
    run = run_cli("plugin", "run", "train", '{"dataset_path": "/d", "epochs": 2}', "--plugin", "demo-train",
                  cwd=tmp_path, env=env)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["status"] == "success"
    assert (tmp_path / "client-home" / "releases" / published["checksum"] / "config.yaml").is_file()


def test_the_server_refuses_a_bad_upload_and_a_wrong_token(backend_server):
    new = NewRelease(
        code="x", version="1.0.0", name="X", category="neural_net", config={}, checksum=sha256_bytes(b"good"),
        source_checksum="0" * 64, size=4,
    )  # fmt: skip
    with HttpBackend(backend_server.url, backend_server.token) as backend:
        registry = backend.releases
        with pytest.raises(ChecksumMismatch, match="the uploaded archive has sha256"):
            registry.add_release(new, b"evil")
        assert registry.list_releases() == []
        with pytest.raises(PluginNotFound, match="plugin 'x' has no published release"):
            registry.get_release("x")
    with (
        HttpBackend(backend_server.url, "not-the-token") as backend,
        pytest.raises(BackendError, match="rejected the access token"),
    ):
        backend.releases.list_releases()


def test_publish_without_a_token_is_exit_2(demo_plugin):
    proc = run_cli("plugin", "publish", cwd=demo_plugin,
                   env={"SYNAPSE_HOST": "http://127.0.0.1:9", "SYNAPSE_ACCESS_TOKEN": ""})  # fmt: skip
    assert proc.returncode == 2
    assert "SYNAPSE_ACCESS_TOKEN is not set" in proc.stderr
