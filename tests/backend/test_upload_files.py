"""Bulk, verified uploads of data files and finding them by checksum, embedded and over HTTP.

``client`` is the same ``BackendClient`` over a fresh embedded store and over a real
``synapse backend serve`` (one per module: each test writes bytes of its own, so files never
de-duplicate across tests). ``stored`` reads the database behind it directly.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
import uuid
from pathlib import Path

import pytest

from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.clients.backend import FIND_CHUNK, BackendClient
from synapse_sdk.errors import FileChecksumMismatch, SynapseError, UsageError


def write_files(folder: Path, count: int, suffix: str = ".bin") -> list[dict]:
    """``count`` files of unique bytes, as upload entries with their checksums."""
    folder.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex
    entries = []
    for i in range(count):
        data = f"{tag}-{i}".encode() * 50
        path = folder / f"file-{i}{suffix}"
        path.write_bytes(data)
        entries.append({"path": path, "checksum": hashlib.sha256(data).hexdigest(), "meta": {"i": i}})
    return entries


def storage_keys(backend: EmbeddedBackend) -> set[str]:
    """Every file in the default storage (temp files excluded by the listing)."""
    _, provider = backend.files.storage()
    return set(provider.list("data_files"))


def test_bulk_upload_records_each_file_once_in_order(client, stored, tmp_path):
    entries = write_files(tmp_path / "in", 12)
    out = client.create_data_files(entries, workers=4)
    assert [r["checksum"] for r in out] == [e["checksum"] for e in entries]
    first = out[0]
    assert first["path"] == f"data_files/{first['checksum'][:2]}/{first['checksum']}.bin"
    assert (first["name"], first["size"], first["meta"]) == ("file-0.bin", 50 * len(b"x" * 34), {"i": 0})
    assert client.get_data_file(first["id"]) == first
    with client.open_data_file(first["id"]) as f:
        assert f.read() == entries[0]["path"].read_bytes()
    assert {r["path"] for r in out} <= storage_keys(stored)


def test_both_backends_give_the_same_records(server, tmp_path):
    entries = write_files(tmp_path / "in", 3, suffix=".png")
    from PIL import Image

    Image.new("RGB", (5, 4), "blue").save(entries[0]["path"], format="PNG")
    entries[0]["checksum"] = hashlib.sha256(entries[0]["path"].read_bytes()).hexdigest()
    embedded = BackendClient(backend=EmbeddedBackend(tmp_path / "home" / "synapse.db"))
    remote = BackendClient(server.url, access_token=server.token)
    a = embedded.create_data_files(entries)
    b = remote.create_data_files(entries)
    skip = {"id", "created_at", "storage"}
    assert [{k: v for k, v in r.items() if k not in skip} for r in a] == [
        {k: v for k, v in r.items() if k not in skip} for r in b
    ]
    assert a[0]["meta"] == {"width": 5, "height": 4, "i": 0}
    assert a[0]["mime_type"] == "image/png"
    assert "width" not in a[1]["meta"]  # not an image, though its name says so: no size recorded
    one = embedded.create_data_file(entries[2]["path"], checksum=entries[2]["checksum"], i=2)
    assert one == a[2]
    remote.backend.close()
    embedded.backend.close()


def test_same_bytes_twice_give_the_same_record_and_are_not_copied_again(client, stored, tmp_path):
    entries = write_files(tmp_path / "in", 3)
    first = client.create_data_files(entries)
    _, provider = stored.files.storage()
    marker = provider.resolve(first[0]["path"])
    if provider.provider == "local":
        Path(marker).write_bytes(entries[0]["path"].read_bytes())  # same bytes, fresh inode
        inode = Path(marker).stat().st_ino
    twin = tmp_path / "elsewhere" / "copy.bin"
    twin.parent.mkdir()
    twin.write_bytes(entries[0]["path"].read_bytes())
    again = client.create_data_files([*entries, {"path": twin, "checksum": entries[0]["checksum"]}])
    assert [r["id"] for r in again] == [*(r["id"] for r in first), first[0]["id"]]
    assert Path(marker).stat().st_ino == inode  # not written again
    assert stored.resource("data_files").count({"checksum": [e["checksum"] for e in entries]}) == 3
    # the same file twice in one call, without a checksum: one record
    fresh = write_files(tmp_path / "fresh", 1)[0]
    both = client.create_data_files([{"path": fresh["path"]}, {"path": fresh["path"]}])
    assert both[0]["id"] == both[1]["id"]
    assert both[0]["checksum"] == fresh["checksum"]


def test_checksum_mismatch_stores_nothing(client, stored, tmp_path):
    entries = write_files(tmp_path / "in", 2)
    wrong = hashlib.sha256(b"what the file held when it was listed").hexdigest()
    before = storage_keys(stored)
    with pytest.raises(FileChecksumMismatch) as info:
        client.create_data_file(entries[0]["path"], checksum=wrong)
    message = str(info.value)
    assert wrong in message and entries[0]["checksum"] in message
    assert "the file changed while it was uploaded; upload it again" in message
    assert "file-0.bin" in message
    out = client.create_data_files([{**entries[0], "checksum": wrong}, entries[1]])
    assert isinstance(out[0], FileChecksumMismatch)
    assert out[1]["checksum"] == entries[1]["checksum"]
    assert stored.resource("data_files").count({"checksum": [wrong, entries[0]["checksum"]]}) == 0
    assert storage_keys(stored) - before == {out[1]["path"]}
    assert not list(Path(stored.files.storage()[1].resolve("data_files")).rglob("*.synapse-tmp"))


def test_a_missing_file_is_its_own_outcome(client, tmp_path):
    entries = write_files(tmp_path / "in", 2)
    gone = tmp_path / "in" / "gone.bin"
    out = client.create_data_files([entries[0], {"path": gone, "checksum": None}, entries[1]])
    assert isinstance(out[1], UsageError)
    assert f"{gone}: no such file" in str(out[1])
    assert [out[0]["checksum"], out[2]["checksum"]] == [entries[0]["checksum"], entries[1]["checksum"]]
    bad = client.create_data_files([{"path": entries[0]["path"], "checksum": "nope"}])[0]
    assert isinstance(bad, SynapseError)


def test_find_data_files_by_checksum_in_chunks(client, tmp_path):
    entries = write_files(tmp_path / "in", FIND_CHUNK * 2 + 7)
    uploaded = client.create_data_files(entries[:-5])
    missing = [e["checksum"] for e in entries[-5:]]
    found = client.find_data_files([*(e["checksum"] for e in entries), *missing])
    assert set(found) == {e["checksum"] for e in entries[:-5]}
    assert {c: r["id"] for c, r in found.items()} == {r["checksum"]: r["id"] for r in uploaded}
    storage = client.get_default_storage()["id"]
    assert client.find_data_files(iter(missing), storage=storage) == {}
    page = client.list_data_files({"checksum": [entries[0]["checksum"], entries[1]["checksum"]]})
    assert page["count"] == 2
    rows, count = client.list_data_files(
        {"storage": storage, "checksum": entries[0]["checksum"]}, list_all=True
    )
    assert count == 1 and [r["id"] for r in rows] == [uploaded[0]["id"]]


def test_concurrent_uploads_of_the_same_files_give_one_data_file_each(client, stored, tmp_path):
    entries = write_files(tmp_path / "in", 40)
    results: list[list] = [[], []]

    def upload(slot: int) -> None:
        results[slot] = client.create_data_files(entries, workers=4)

    threads = [threading.Thread(target=upload, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r["id"] for r in results[0]] == [r["id"] for r in results[1]]
    assert stored.resource("data_files").count({"checksum": [e["checksum"] for e in entries]}) == 40


def _upload_in_process(db: str, entries: list[dict], queue) -> None:  # type: ignore[no-untyped-def]
    with EmbeddedBackend(db) as backend:
        out = backend.files.upload_many(entries, workers=4)
    queue.put([r["id"] if isinstance(r, dict) else repr(r) for r in out])


def test_two_processes_uploading_the_same_files_record_each_once(tmp_path):
    db = str(tmp_path / "home" / "synapse.db")
    EmbeddedBackend(db).close()
    entries = write_files(tmp_path / "in", 300)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    procs = [context.Process(target=_upload_in_process, args=(db, entries, queue)) for _ in range(2)]
    for proc in procs:
        proc.start()
    outs = [queue.get(timeout=60), queue.get(timeout=60)]
    for proc in procs:
        proc.join(timeout=30)
    assert outs[0] == outs[1]
    assert all(isinstance(i, int) for i in outs[0])
    with EmbeddedBackend(db) as backend:
        assert backend.resource("data_files").count() == 300
