"""One contract for every storage: each test runs against a local folder and a real S3 server."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from synapse_sdk.errors import StorageError
from synapse_sdk.storage import Storage, StoredFile

MIB = 1024 * 1024


@pytest.fixture
def s3_server_if_s3(request, storage):
    """The S3 server behind ``storage`` when it is the s3 one (to look at the bucket directly)."""
    return request.getfixturevalue("s3_server") if storage.provider == "s3" else None


def test_is_a_storage(storage):
    assert isinstance(storage, Storage)
    assert storage.provider in ("local", "s3")
    assert storage.name.startswith("test-")
    storage.check()


def test_write_bytes_then_read_them_back(storage):
    stored = storage.write("docs/hello.txt", b"hello")
    assert stored == StoredFile("docs/hello.txt", 5, hashlib.sha256(b"hello").hexdigest())
    assert storage.exists("docs/hello.txt")
    assert storage.read_bytes("docs/hello.txt") == b"hello"
    assert storage.size("docs/hello.txt") == 5
    assert storage.sha256("docs/hello.txt") == stored.sha256


def test_write_a_stream(storage):
    data = os.urandom(3 * MIB + 17)
    stored = storage.write("bin/stream.dat", io.BytesIO(data))
    assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert storage.read_bytes("bin/stream.dat") == data


def test_an_empty_file(storage):
    assert storage.write("empty", b"").size == 0
    assert storage.exists("empty")
    assert storage.size("empty") == 0
    assert storage.read_bytes("empty") == b""


def test_overwrite_replaces_the_content(storage):
    storage.write("a.txt", b"first version")
    storage.write("a.txt", b"second")
    assert storage.read_bytes("a.txt") == b"second"
    assert list(storage.list()) == ["a.txt"]


def test_put_file_streams_12_mib_with_its_sha256(storage, tmp_path, s3_server_if_s3):
    source = tmp_path / "big.bin"
    data = os.urandom(12 * MIB)
    source.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()

    stored = storage.put_file(source, "uploads/big.bin")

    assert stored == StoredFile("uploads/big.bin", 12 * MIB, expected)
    assert storage.size("uploads/big.bin") == 12 * MIB
    assert storage.sha256("uploads/big.bin") == expected
    digest = hashlib.sha256()
    chunks = 0
    with storage.open_read("uploads/big.bin") as handle:
        while chunk := handle.read(MIB):
            digest.update(chunk)
            chunks += 1
    assert (digest.hexdigest(), chunks) == (expected, 12)
    if s3_server_if_s3:  # streamed as a multipart upload (8 MiB parts), not one 12 MiB body
        _, _, bucket, key = storage.url("uploads/big.bin").split("/", 3)
        etag = s3_server_if_s3.client().head_object(Bucket=bucket, Key=key)["ETag"]
        assert etag.strip('"').endswith("-2")


def test_open_read_seeks(storage):
    storage.write("seek.bin", bytes(range(256)))
    with storage.open_read("seek.bin") as handle:
        assert handle.readable()
        handle.seek(250)
        assert handle.tell() == 250
        assert handle.read() == bytes(range(250, 256))
        buffer = bytearray(4)
        handle.seek(0)
        assert handle.readinto(buffer) == 4
        assert bytes(buffer) == b"\x00\x01\x02\x03"


def test_list_recursive_and_not(storage):
    for key in ["b.txt", "a.txt", "img/2.jpg", "img/1.jpg", "img/deep/x.png", "other/y"]:
        storage.write(key, key.encode())

    assert sorted(storage.list()) == ["a.txt", "b.txt", "img/1.jpg", "img/2.jpg", "img/deep/x.png", "other/y"]
    assert list(storage.list("img")) == ["img/1.jpg", "img/2.jpg", "img/deep/x.png"]
    assert list(storage.list("img/")) == list(storage.list("img"))
    assert list(storage.list(recursive=False)) == ["a.txt", "b.txt", "img/", "other/"]
    assert list(storage.list("img", recursive=False)) == ["img/1.jpg", "img/2.jpg", "img/deep/"]
    assert list(storage.list("nothing-here")) == []
    assert list(storage.list("a.txt")) == []  # a file is not a folder


def test_list_is_a_lazy_iterator(storage):
    storage.write("x/1", b"1")
    keys = storage.list()
    assert iter(keys) is keys
    assert next(keys) == "x/1"


def test_an_empty_storage_lists_nothing(storage):
    assert list(storage.list()) == []


def test_delete(storage):
    storage.write("gone/soon.txt", b"x")
    storage.delete("gone/soon.txt")
    assert not storage.exists("gone/soon.txt")
    assert list(storage.list()) == []
    storage.delete("gone/soon.txt")  # deleting nothing is fine


def test_a_missing_key(storage):
    assert not storage.exists("missing.txt")
    for call in (storage.size, storage.read_bytes, storage.open_read, storage.sha256):
        with pytest.raises(StorageError) as info:
            call("missing.txt")
        message = str(info.value)
        assert f"storage {storage.name!r}" in message and "'missing.txt'" in message
        assert "\n" not in message


def test_a_folder_is_not_a_file(storage):
    storage.write("folder/inside.txt", b"x")
    assert not storage.exists("folder")
    with pytest.raises(StorageError, match="'folder' is a folder, not a file"):
        storage.size("folder")
    with pytest.raises(StorageError, match="is a folder"):
        storage.read_bytes("folder")


def test_keys_are_normalized(storage):
    storage.write("./a//b/./c.txt", b"x")
    assert list(storage.list()) == ["a/b/c.txt"]
    assert storage.exists("a/x/../b/c.txt")


@pytest.mark.parametrize(
    "key", ["with space.txt", "ünïcode/日本.txt", "hash#1.txt", "query?x=1", "plus+and%20.txt", "dots..name"]
)
def test_unusual_but_valid_keys(storage, key):
    storage.write(key, b"content")
    assert storage.exists(key)
    assert storage.read_bytes(key) == b"content"
    assert list(storage.list()) == [key]
    storage.delete(key)
    assert list(storage.list()) == []


def test_url(storage, tmp_path):
    url = storage.url("img/cat.jpg")
    if storage.provider == "local":
        assert url == str(tmp_path / "storage-root" / "img" / "cat.jpg")
    else:
        assert url.startswith("s3://test-") and url.endswith("/team/data/img/cat.jpg")


class FailingSource(io.RawIOBase):
    """A stream that gives ``good`` bytes and then fails, like a dropped upload."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            raise ConnectionResetError("the source went away")
        n = min(self.left, size if size > 0 else self.left)
        self.left -= n
        return b"x" * n


@pytest.mark.parametrize("good", [100, 20 * MIB], ids=["small", "multipart"])
def test_a_failed_write_leaves_nothing(storage, good):
    storage.write("keep.txt", b"kept")
    storage.write("target.bin", b"old content")
    with pytest.raises(ConnectionResetError):
        storage.write("target.bin", FailingSource(good))
    assert storage.read_bytes("target.bin") == b"old content"
    with pytest.raises(ConnectionResetError):
        storage.write("new.bin", FailingSource(good))
    assert not storage.exists("new.bin")
    assert sorted(storage.list()) == ["keep.txt", "target.bin"]


def test_no_temp_file_or_upload_is_left_behind(storage, tmp_path, s3_server_if_s3):
    with pytest.raises(ConnectionResetError):
        storage.write("big.bin", FailingSource(20 * MIB))
    if storage.provider == "local":
        assert sorted(p.name for p in (tmp_path / "storage-root").rglob("*")) == []
    else:
        bucket = storage.url("x").split("/")[2]
        assert s3_server_if_s3.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
