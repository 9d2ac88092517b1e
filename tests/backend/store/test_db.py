"""SQLite failures become ``BackendError`` naming the database and the fix, each provoked for real."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from synapse_sdk.backend import get_backend
from synapse_sdk.backend.schemas import EventBatch, NewRelease, NewRun
from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.backend.store.db import Database
from synapse_sdk.backend.store.runs import RunStore
from synapse_sdk.errors import BackendError, RunConflict
from synapse_sdk.packaging.archive import build_archive
from synapse_sdk.packaging.checksum import sha256_bytes
from synapse_sdk.settings import Settings


def test_a_file_that_is_not_a_database_says_to_move_it_away(tmp_path):
    path = tmp_path / "synapse.db"
    path.write_text("these are not the bytes of a SQLite database\n" * 100)
    says = f"{path} is not a usable Synapse database .file is not a database .SQLITE_NOTADB..: .*move it away"
    with pytest.raises(BackendError, match=says) as info:
        RunStore(path)
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)


def test_a_folder_where_the_database_should_be_cannot_be_opened(tmp_path):
    path = tmp_path / "synapse.db"
    path.mkdir()
    says = (
        f"cannot open database {path} .unable to open database file .SQLITE_CANTOPEN..: "
        "the path is a folder, not a database file: move it away, or set SYNAPSE_HOME"
    )
    with pytest.raises(BackendError, match=says):
        EmbeddedBackend(path)


def test_a_home_under_a_regular_file_cannot_be_opened(tmp_path):
    not_a_folder = tmp_path / "home-is-a-file"
    not_a_folder.write_text("")
    settings = Settings(home=not_a_folder / "synapse")
    says = (
        f"cannot open database {settings.db_path} .NotADirectoryError: .*its folder {settings.home} "
        "does not exist and cannot be made .is a file in the way.., or set SYNAPSE_HOME"
    )
    with pytest.raises(BackendError, match=says):
        get_backend(settings)


def test_a_lock_held_longer_than_the_busy_timeout_names_the_file_and_how_to_find_the_holder(tmp_path):
    path = tmp_path / "synapse.db"
    runs = RunStore(Database(path, busy_timeout=0.1))
    runs.create_run(NewRun(id="r1", action="train"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
    try:
        locked = (
            f"database {path} is locked .database is locked \\(SQLITE_BUSY\\)\\): another process has held"
        )
        started = time.monotonic()
        with pytest.raises(
            BackendError, match=locked + r" its write lock for more than 0.1s; find it with 'fuser"
        ):
            runs.create_run(NewRun(id="r2", action="train"))
        with pytest.raises(BackendError, match=locked):
            runs.write_events("r1", EventBatch(heartbeat=1.0))
        with pytest.raises(BackendError, match=locked):
            runs.update("r1", pid=1)
        assert time.monotonic() - started < 5
        assert runs.get_run("r1").pid is None  # readers are not blocked in WAL mode, nothing was written
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    runs.update("r1", pid=1)  # the lock is gone: writes go through again
    assert runs.get_run("r1").pid == 1


def test_a_disk_io_error_names_the_file_and_what_to_check(tmp_path):
    path = tmp_path / "synapse.db"
    (tmp_path / "synapse.db-wal").mkdir()  # SQLite cannot use its write-ahead log
    says = (
        f"disk I/O error on database {path} .disk I/O error .SQLITE_IOERR.*..: the disk is full or failing, "
        "a file beside it .synapse.db-wal, synapse.db-shm. is not a regular file"
    )
    with pytest.raises(BackendError, match=says):
        RunStore(path)


def test_a_read_only_database_says_what_must_be_writable(tmp_path):
    path = tmp_path / "synapse.db"
    (tmp_path / "synapse.db-shm").mkdir()  # SQLite cannot write its shared-memory index
    with pytest.raises(BackendError, match=f"database {path} is read-only .*check their permissions"):
        RunStore(path)


def test_a_full_database_says_to_free_space(tmp_path):
    backend = EmbeddedBackend(tmp_path / "synapse.db")
    backend.runs.create_run(NewRun(id="r1", action="train"))
    backend.db.connect().execute("PRAGMA max_page_count = 10")  # the disk is as good as full
    big = [(1.0, "INFO", "x" * 100_000, None, None)]
    says = "cannot grow .database or disk is full .SQLITE_FULL..: the disk is full; free space on it"
    with pytest.raises(BackendError, match=says):
        backend.runs.write_events("r1", EventBatch(logs=big))
    config = b"code: c\nversion: 1.0.0\ncategory: neural_net\n"
    archive = build_archive(".", [], extra={"config.yaml": config, "weights.bin": os.urandom(100_000)})
    new = NewRelease(
        code="c", version="1.0.0", name="C", category="neural_net", config={}, checksum=sha256_bytes(archive),
        source_checksum="0" * 64, size=len(archive), lock="z" * 99_000,
    )  # fmt: skip
    with pytest.raises(BackendError, match="the disk is full"):
        backend.releases.add_release(new, archive)
    assert backend.runs.count_logs("r1") == 0  # the failed batch left nothing behind
    assert backend.releases.list_releases() == []


def test_integrity_and_binding_errors_stay_what_they_mean(tmp_path):
    runs = RunStore(tmp_path / "synapse.db")
    runs.create_run(NewRun(id="r1", action="train"))
    with pytest.raises(RunConflict):  # an IntegrityError the store turns into a conflict
        runs.create_run(NewRun(id="r1", action="train"))
    with pytest.raises(sqlite3.ProgrammingError):  # a value SQLite cannot bind is our bug, not the disk's
        runs.update("r1", pid={"not": "a number"})
