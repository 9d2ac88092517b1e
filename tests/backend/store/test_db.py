"""SQLite failures become ``BackendError`` naming the database and the fix, each provoked for real."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from synapse_sdk.backend import get_backend
from synapse_sdk.backend.schemas import EventBatch, NewRelease, NewRun
from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.backend.store.db import Database, _migrations, _statements
from synapse_sdk.backend.store.runs import RunStore
from synapse_sdk.errors import BackendError, RunConflict
from synapse_sdk.packaging.archive import build_archive
from synapse_sdk.packaging.checksum import sha256_bytes
from synapse_sdk.settings import Settings

NEWEST = _migrations()[-1][0]


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
        f"the path is a folder, not a database file: move it away .mv {path} {path}.old., "
        "or set SYNAPSE_HOME to another folder$"
    )
    with pytest.raises(BackendError, match=says):
        EmbeddedBackend(path)


def test_a_home_under_a_regular_file_cannot_be_opened(tmp_path):
    not_a_folder = tmp_path / "home-is-a-file"
    not_a_folder.write_text("")
    settings = Settings(home=not_a_folder / "synapse")
    says = (
        f"cannot open database {settings.db_path} .NotADirectoryError: Not a directory.: {not_a_folder} "
        f"is a file, not a folder: move it away .mv {not_a_folder} {not_a_folder}.old., or set SYNAPSE_HOME"
    )
    with pytest.raises(BackendError, match=says):
        get_backend(settings)


def test_a_home_that_is_a_file_says_so_and_how_to_fix_it(tmp_path):
    home = tmp_path / "home"
    home.write_text("not a folder")
    says = (
        f"cannot open database {home / 'synapse.db'} .FileExistsError: File exists.: {home} is a file, "
        f"not a folder: move it away .mv {home} {home}.old., or set SYNAPSE_HOME to another folder$"
    )
    with pytest.raises(BackendError, match=says):
        get_backend(Settings(home=home))
    assert home.read_text() == "not a folder"


def test_a_database_from_a_newer_sdk_is_refused_and_left_as_it_is(tmp_path):
    path = tmp_path / "synapse.db"
    newer = sqlite3.connect(path)
    newer.execute("PRAGMA user_version = 999")
    newer.close()
    says = (
        f"^database {path} was written by a newer Synapse SDK .schema 999; this one knows up to {NEWEST}.: "
        "upgrade synapse-plugin-sdk .pip install -U synapse-plugin-sdk., "
        "or set SYNAPSE_HOME to another folder$"
    )
    for open_it in (Database, RunStore, EmbeddedBackend):
        with pytest.raises(BackendError, match=says):
            open_it(path)
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == 999
    assert check.execute("SELECT name FROM sqlite_master").fetchall() == []  # not a table was made
    check.close()


def test_an_older_schema_is_migrated_on_open(tmp_path):
    path = tmp_path / "synapse.db"
    older = sqlite3.connect(path, isolation_level=None)
    first_number, first_sql = _migrations()[0]
    for statement in _statements(first_sql):
        older.execute(statement)
    older.execute(f"PRAGMA user_version = {first_number}")
    older.close()
    db = Database(path)
    assert db.query_one("PRAGMA user_version")[0] == NEWEST
    EmbeddedBackend(path).runs.create_run(NewRun(id="r1", action="train"))  # every table is there


def test_databases_opened_at_once_migrate_a_new_file_once(tmp_path):
    path = tmp_path / "synapse.db"
    opened: list[Database] = []
    failed: list[BaseException] = []

    def open_one() -> None:
        try:
            opened.append(Database(path))
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            failed.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []  # each re-read the version under the lock: no migration ran twice
    assert {db.query_one("PRAGMA user_version")[0] for db in opened} == {NEWEST}


HOLD_WRITE_LOCK = """\
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO runs (id, action, status, created_at) VALUES ('w', 'train', 'PENDING', 0)")
print("locked", flush=True)
time.sleep(5)
conn.execute("ROLLBACK")
"""


@pytest.fixture
def write_locked(tmp_path):  # type: ignore[no-untyped-def]
    """A current database another process holds the write lock of (for 5 s, in a write), and its path."""
    path = tmp_path / "synapse.db"
    RunStore(path).create_run(NewRun(id="r1", action="train"))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        yield path
    finally:
        holder.terminate()  # the lock ends with it
        holder.wait(10)
        assert holder.stdout is not None
        holder.stdout.close()


def test_opening_and_reading_a_current_database_never_waits_for_another_process_write(write_locked):
    with pytest.raises(BackendError, match="is locked"):  # the lock is held: a write cannot go through
        Database(write_locked, busy_timeout=0.1).write_one("UPDATE runs SET pid = 1 WHERE id = 'r1'")
    started = time.monotonic()
    db = Database(write_locked)  # connects (journal_mode = WAL again) and checks the schema version
    rows = db.query("SELECT id FROM runs")
    record = RunStore(db).get_run("r1")
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"opening and reading took {elapsed:.2f}s behind another process's write lock"
    assert [row["id"] for row in rows] == ["r1"]  # the writer's uncommitted row is not seen
    assert record.status == "PENDING"


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
        runs.db.write_one("UPDATE runs SET host = ? WHERE id = ?", ({"not": "text"}, "r1"))
