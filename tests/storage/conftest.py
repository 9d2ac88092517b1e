"""Storage fixtures: a fresh bucket per test on the session's S3 server (``s3_server``, tests/conftest.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from synapse_sdk.storage import LocalConfig, S3Config, get_storage
from tests.servers import SeaweedS3


@pytest.fixture
def s3_bucket(s3_server: SeaweedS3) -> str:
    """A new, empty bucket for one test."""
    return s3_server.create_bucket(f"test-{uuid.uuid4().hex[:16]}")


def s3_config(server: SeaweedS3, bucket: str, **changes: object) -> S3Config:
    """A working configuration for ``bucket`` on ``server``, with ``changes`` applied."""
    fields: dict[str, object] = {
        "bucket": bucket,
        "prefix": "team/data",
        "endpoint_url": server.endpoint_url,
        "region": "us-east-1",
        "access_key_id": server.access_key,
        "secret_access_key": server.secret_key,
    }
    return S3Config.model_validate({**fields, **changes})


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The same storage contract against a local folder and against a real S3 bucket."""
    if request.param == "local":
        return get_storage(LocalConfig(root=str(tmp_path / "storage-root")), name="test-local")
    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    return get_storage(s3_config(server, bucket), name="test-s3")
