"""A misconfigured or unreachable storage fails in one line that names the storage and the fix."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from synapse_sdk.errors import StorageError
from synapse_sdk.storage import LocalConfig, get_storage
from synapse_sdk.storage._errors import Where, translate
from tests.servers import free_port
from tests.storage.conftest import s3_config


def operations(storage):
    return {
        "check": storage.check,
        "write": lambda: storage.write("a.txt", b"x"),
        "exists": lambda: storage.exists("a.txt"),
        "read": lambda: storage.read_bytes("a.txt"),
        "list": lambda: list(storage.list()),
        "delete": lambda: storage.delete("a.txt"),
    }


def assert_one_line(storage, fix, skip=()):
    """Every operation fails with a one-line message holding ``fix``; returns the slowest failure's time."""
    slowest = 0.0
    for name, operation in operations(storage).items():
        if name in skip:
            continue
        began = time.monotonic()
        with pytest.raises(StorageError) as info:
            operation()
        slowest = max(slowest, time.monotonic() - began)
        message = str(info.value)
        assert message.startswith(f"storage {storage.name!r}: "), (name, message)
        assert fix in message, (name, message)
        assert "\n" not in message, (name, message)
        assert info.value.__cause__ is not None  # the provider's error stays chained for --debug
    return slowest


def test_wrong_secret(s3_server, s3_bucket):
    storage = get_storage(s3_config(s3_server, s3_bucket, secret_access_key="wrong-secret"), name="bad-keys")
    # delete is excluded: SeaweedFS answers DELETE of a missing key before checking the signature
    assert_one_line(storage, "check access_key_id/secret_access_key", skip=("delete",))


def test_unknown_access_key(s3_server, s3_bucket):
    storage = get_storage(s3_config(s3_server, s3_bucket, access_key_id="nobody"), name="bad-keys")
    assert_one_line(storage, "check access_key_id/secret_access_key", skip=("delete",))


def test_wrong_keys_never_show_the_secret(s3_server, s3_bucket):
    storage = get_storage(s3_config(s3_server, s3_bucket, secret_access_key="wrong-secret-xyz"), name="k")
    with pytest.raises(StorageError) as info:
        storage.write("a", b"x")
    assert "wrong-secret-xyz" not in str(info.value)


def test_missing_bucket(s3_server):
    storage = get_storage(s3_config(s3_server, "no-such-bucket"), name="nobucket")
    assert_one_line(storage, "bucket 'no-such-bucket' does not exist at http://127.0.0.1:")
    assert_one_line(storage, "create bucket 'no-such-bucket' or fix 'bucket'")


def test_missing_bucket_for_a_multipart_upload(s3_server, tmp_path):
    source = tmp_path / "big.bin"
    source.write_bytes(b"x" * (9 * 1024 * 1024))
    storage = get_storage(s3_config(s3_server, "no-such-bucket"), name="nobucket")
    with pytest.raises(StorageError, match="create bucket 'no-such-bucket' or fix 'bucket'"):
        storage.put_file(source, "big.bin")


def test_unreachable_endpoint_fails_fast():
    port = free_port()
    config = {"provider": "s3", "bucket": "abc", "endpoint_url": f"http://127.0.0.1:{port}",
              "access_key_id": "k", "secret_access_key": "s"}  # fmt: skip
    storage = get_storage(config, name="far")
    slowest = assert_one_line(
        storage, f"is the S3 server at http://127.0.0.1:{port} running? check endpoint_url"
    )
    assert slowest < 10  # bounded connect timeout and retries: seconds, not minutes


def test_local_root_under_a_regular_file(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    storage = get_storage(LocalConfig(root=str(tmp_path / "a-file" / "root")), name="blocked")
    for operation in (storage.check, lambda: storage.write("x.txt", b"x")):
        with pytest.raises(StorageError) as info:
            operation()
        assert str(info.value) == (
            f"storage 'blocked': cannot create the root {tmp_path}/a-file/root: a file stands on that path, "
            "not a folder; fix 'root'"
        )


def test_local_root_that_is_a_file(tmp_path):
    (tmp_path / "root").write_text("a file")
    storage = get_storage(LocalConfig(root=str(tmp_path / "root")), name="file-root")
    with pytest.raises(StorageError, match="fix 'root'"):
        storage.check()


def test_local_root_not_created_yet(tmp_path):
    storage = get_storage(LocalConfig(root=str(tmp_path / "later")), name="later")
    assert not storage.exists("a.txt")
    assert list(storage.list()) == []
    with pytest.raises(
        StorageError, match=r"no file 'a.txt': the root .*later does not exist .*check 'root'"
    ):
        storage.read_bytes("a.txt")


def test_a_file_standing_where_a_folder_is_needed(tmp_path):
    storage = get_storage(LocalConfig(root=str(tmp_path / "r")), name="clash")
    storage.write("a", b"file")
    with pytest.raises(StorageError, match="cannot write 'a/b.txt': a file stands where a folder is needed"):
        storage.write("a/b.txt", b"x")


def test_writing_over_a_folder(storage):
    storage.write("dir/inside", b"x")
    if storage.provider == "local":
        with pytest.raises(StorageError, match="'dir' is a folder, not a file"):
            storage.write("dir", b"x")


def test_put_file_of_a_missing_local_file(storage, tmp_path):
    with pytest.raises(StorageError, match="cannot read the local file .*nope.bin: No such file"):
        storage.put_file(tmp_path / "nope.bin", "x.bin")


def test_the_s3_provider_without_its_driver_is_named():
    """What a base install (no ``[s3]`` extra) sees: the extra to install, not an ImportError."""
    probe = (
        "import sys; sys.modules['s3fs'] = None\n"
        "from synapse_sdk.storage import get_storage\n"
        "get_storage({'provider': 's3', 'bucket': 'abc'}, name='no-driver').exists('x')\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "synapse_sdk.errors.StorageError: storage 'no-driver': the s3 provider needs s3fs; "
        "install it with: pip install 'synapse-plugin-sdk[s3]'"
    )


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("boom"), ValueError(), OSError(5, "I/O error"), KeyError("k")],
    ids=["runtime", "value", "oserror", "keyerror"],
)
def test_the_error_map_is_total(exc):
    for provider in ("local", "s3"):
        where = Where(storage="any", provider=provider, root="/r", bucket="b", endpoint="http://h")
        error = translate(exc, where, "read", "k.txt")
        assert isinstance(error, StorageError)
        assert str(error).startswith("storage 'any': cannot read 'k.txt': ")
        assert type(exc).__name__ in str(error)
