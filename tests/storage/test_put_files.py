"""``Storage.put_files``: many files at once, each verified against its sha256, local and on real S3."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.clients.backend import BackendClient
from synapse_sdk.errors import FileChecksumMismatch, PathOutsideRoot, StorageError
from synapse_sdk.storage import StoredFile
from synapse_sdk.storage.fsspec_storage import FsspecStorage
from tests.storage.conftest import s3_config

MiB = 1 << 20


def files(folder: Path, count: int, size: int = 4096) -> list[tuple[Path, str, str]]:
    """``count`` local files of random bytes as ``(path, key, sha256)``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        data = os.urandom(size)
        path = folder / f"f{i}.bin"
        path.write_bytes(data)
        out.append((path, f"batch/{i % 7}/f{i}.bin", hashlib.sha256(data).hexdigest()))
    return out


def test_put_files_stores_each_and_reports_each(storage, tmp_path):
    batch = files(tmp_path / "in", 30)
    wrong = hashlib.sha256(b"other bytes").hexdigest()
    requests = [
        *batch,
        (batch[0][0], "batch/bad.bin", wrong),
        (tmp_path / "gone.bin", "batch/gone.bin", None),
    ]
    requests.append((batch[1][0], "../outside.bin", None))
    out = storage.put_files(requests, workers=4)
    assert out[:30] == [StoredFile(key=key, size=4096, sha256=sha) for _, key, sha in batch]
    assert isinstance(out[30], FileChecksumMismatch)
    assert "the file changed while it was uploaded; upload it again" in str(out[30])
    assert isinstance(out[31], StorageError) and "gone.bin" in str(out[31])
    assert isinstance(out[32], PathOutsideRoot)
    assert not storage.exists("batch/bad.bin") and not storage.exists("batch/gone.bin")
    assert storage.read_bytes(batch[5][1]) == batch[5][0].read_bytes()
    assert sorted(storage.list("batch")) == sorted(key for _, key, _ in batch)


def test_put_file_with_a_wrong_sha256_leaves_nothing(storage, tmp_path):
    ((path, _, sha),) = files(tmp_path / "in", 1)
    with pytest.raises(FileChecksumMismatch) as info:
        storage.put_file(path, "one.bin", sha256=hashlib.sha256(b"x").hexdigest())
    assert info.value.actual == sha and info.value.path == str(path)
    assert not storage.exists("one.bin")
    assert storage.put_file(path, "one.bin", sha256=sha).sha256 == sha


def test_s3_small_files_go_concurrently(s3_server, s3_bucket, tmp_path):
    storage = FsspecStorage(s3_config(s3_server, s3_bucket), name="s3-batch")
    batch = files(tmp_path / "in", 201, size=2048)
    storage.put_files(batch[:1])  # the session is set up: both timings below are warm
    started = time.perf_counter()
    out = storage.put_files(batch[1:101])
    concurrent = time.perf_counter() - started
    assert all(isinstance(o, StoredFile) for o in out)
    started = time.perf_counter()
    for path, key, sha in batch[101:]:
        storage.put_file(path, key, sha256=sha)
    one_by_one = time.perf_counter() - started
    assert concurrent < one_by_one  # 100 files at once beat 100 PUTs one after the other (~2x here)
    listed = s3_server.client().list_objects_v2(Bucket=s3_bucket, Prefix="team/data/batch/")
    assert listed["KeyCount"] == 201


def test_s3_large_file_goes_multipart(s3_server, s3_bucket, tmp_path):
    storage = FsspecStorage(s3_config(s3_server, s3_bucket), name="s3-large", part_size=5 * MiB)
    ((path, key, sha),) = files(tmp_path / "in", 1, size=12 * MiB)
    small = files(tmp_path / "small", 3)
    out = storage.put_files([(path, key, sha), *small])
    assert out[0] == StoredFile(key=key, size=12 * MiB, sha256=sha)
    head = s3_server.client().head_object(Bucket=s3_bucket, Key=f"team/data/{key}")
    assert head["ETag"].strip('"').endswith("-3")  # 5 + 5 + 2 MiB
    assert storage.sha256(key) == sha
    wrong = storage.put_files([(path, "batch/wrong.bin", hashlib.sha256(b"x").hexdigest())])[0]
    assert isinstance(wrong, FileChecksumMismatch)
    assert not storage.exists("batch/wrong.bin")
    uploads = s3_server.client().list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
    assert uploads == []  # the refused multipart upload was aborted, not left behind


def test_upload_many_into_an_s3_storage(s3_server, s3_bucket, tmp_path):
    client = BackendClient(backend=EmbeddedBackend(tmp_path / "home" / "synapse.db"))
    config = s3_config(s3_server, s3_bucket).model_dump(exclude={"provider"})
    storage = client.create_storage({"name": "s3", "provider": "s3", "configuration": config})
    batch = files(tmp_path / "in", 40)
    entries = [{"path": path, "checksum": sha} for path, _, sha in batch]
    out = client.create_data_files(entries, storage=storage["id"])
    assert [r["checksum"] for r in out] == [sha for *_, sha in batch]
    again = client.create_data_files(entries, storage=storage["id"])
    assert [r["id"] for r in again] == [r["id"] for r in out]
    found = client.find_data_files([sha for *_, sha in batch], storage=storage["id"])
    assert len(found) == 40
    with client.open_data_file(out[3]["id"]) as f:
        assert f.read() == batch[3][0].read_bytes()
    client.backend.close()
