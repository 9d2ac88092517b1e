"""Storage configurations: one model per provider, clear field errors, secrets masked when read back."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from synapse_sdk.errors import ConfigError
from synapse_sdk.storage import (
    DEFAULT_STORAGE_NAME,
    SECRET_FIELDS,
    LocalConfig,
    S3Config,
    default_local_config,
    get_storage,
    parse_config,
    public_config,
)

S3 = {
    "provider": "s3",
    "bucket": "synapse-data",
    "prefix": "team-a",
    "endpoint_url": "http://127.0.0.1:8333",
    "region": "us-east-1",
    "access_key_id": "AKIAEXAMPLEKEY",
    "secret_access_key": "very-secret-value",
}


def test_parse_picks_the_provider_model():
    assert parse_config({"provider": "local", "root": "/data/x"}) == LocalConfig(root="/data/x")
    assert parse_config({"root": "/data/x"}).provider == "local"  # the default provider
    config = parse_config(S3)
    assert isinstance(config, S3Config)
    assert (config.bucket, config.prefix, config.region) == ("synapse-data", "team-a", "us-east-1")


def test_s3_defaults():
    config = S3Config(bucket="abc")
    assert (config.prefix, config.endpoint_url, config.region, config.access_key_id) == ("", None, None, None)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"provider": "local", "root": "relative/dir"}, "storage: root: must be an absolute folder path"),
        ({"provider": "local"}, "storage: root: required"),
        ({"provider": "gcs", "bucket": "b"}, "storage: provider: expected one of 'local', 's3', got 'gcs'"),
        ({"provider": "local", "root": "/x", "bucket": "b"}, "storage: bucket: unknown field; remove it"),
        ({**S3, "bucket": "Bad_Bucket"}, "storage: bucket: must be 3-63 lowercase letters"),
        ({**S3, "endpoint_url": "127.0.0.1:8333"}, "storage: endpoint_url: must be an http(s) URL"),
        ({**S3, "prefix": "a/../b"}, "storage: prefix: must not contain '..'"),
        ({**S3, "secret_access_key": None}, "give both access_key_id and secret_access_key, or neither"),
        ({**S3, "acces_key_id": "x"}, "storage: acces_key_id: unknown field; remove it"),
    ],
    ids=["relative-root", "no-root", "unknown-provider", "extra-field", "bucket", "endpoint", "prefix",
         "half-keys", "typo"],
)  # fmt: skip
def test_field_errors_are_one_line_each(data, problem):
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert any(line.startswith(problem) or problem in line for line in info.value.problems), (
        info.value.problems
    )
    assert str(info.value) == "\n".join(info.value.problems)
    assert "very-secret-value" not in str(info.value)


def test_every_problem_at_once():
    with pytest.raises(ConfigError) as info:
        parse_config({"provider": "s3", "bucket": "X", "endpoint_url": "ftp://x", "color": "red"})
    assert len(info.value.problems) == 3


def test_the_models_raise_pydantic_errors_too():
    with pytest.raises(ValidationError, match="must be an absolute folder path"):
        LocalConfig(root="data")


def test_prefix_and_root_are_normalized():
    assert S3Config(bucket="abc", prefix="/a//b/./").prefix == "a/b"
    assert LocalConfig(root="/data//x/").root == "/data/x"
    assert S3Config(bucket="abc", endpoint_url="http://h:1/").endpoint_url == "http://h:1"


def test_secret_fields_per_provider():
    assert {"local": frozenset(), "s3": frozenset({"access_key_id", "secret_access_key"})} == SECRET_FIELDS


def test_public_config_masks_the_keys():
    shown = public_config(parse_config(S3))
    assert shown == {**S3, "access_key_id": "***", "secret_access_key": "***"}
    assert public_config(S3Config(bucket="abc"))["secret_access_key"] is None  # unset stays visibly unset
    assert public_config(LocalConfig(root="/d")) == {"provider": "local", "root": "/d"}


def test_secrets_stay_out_of_reprs_and_messages():
    config = parse_config(S3)
    storage = get_storage(config, name="team")
    for text in (repr(config), str(config), repr(storage)):
        assert "very-secret-value" not in text and "AKIAEXAMPLEKEY" not in text
    assert config.secret_access_key == "very-secret-value"  # still there for the provider


def test_configs_are_frozen():
    with pytest.raises(ValidationError):
        LocalConfig(root="/d").root = "/e"  # type: ignore[misc]


def test_default_local_config(tmp_path):
    assert DEFAULT_STORAGE_NAME == "default"
    assert default_local_config(tmp_path) == LocalConfig(root=str(tmp_path / "storages" / "default"))


def test_the_default_storage_works_in_a_fresh_home(synapse_home):
    storage = get_storage(default_local_config(synapse_home))
    assert storage.name == DEFAULT_STORAGE_NAME
    assert not synapse_home.exists()
    assert list(storage.list()) == []
    storage.check()
    storage.write("first.txt", b"hello")
    assert (synapse_home / "storages" / "default" / "first.txt").read_bytes() == b"hello"


def test_get_storage_takes_a_mapping_and_validates_it():
    assert get_storage({"provider": "local", "root": "/tmp/x"}, name="m").provider == "local"
    with pytest.raises(ConfigError, match="storage 'm': bucket: required"):
        get_storage({"provider": "s3"}, name="m")
