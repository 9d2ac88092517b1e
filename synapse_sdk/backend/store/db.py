"""The SQLite database of the embedded store (WAL, busy timeout), its migrations, and its errors.

Every statement of the store goes through :class:`Database` (``query``, ``query_one``,
``write_one``, ``write``), which turns SQLite's failures into a ``BackendError`` naming the
file and the fix (:func:`raise_ours`). ``IntegrityError`` stays a ``sqlite3`` error for the
store to turn into the conflict it means; ``ProgrammingError`` (a value SQLite cannot bind) is
a bug and stays one too.

Opening a database whose schema is current takes no lock: the version is read first and the
write lock is taken only when a migration is due, so a read command never queues behind another
process's write. A database made by a newer SDK (a schema version past the newest migration
here) is refused with a ``BackendError`` before anything reads or writes it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from importlib import resources
from pathlib import Path
from typing import NoReturn

from synapse_sdk._version import DISTRIBUTION
from synapse_sdk.errors import BackendError
from synapse_sdk.settings import folder_problem, os_reason

#: How long a writer waits for another process's write lock before "database is locked".
BUSY_TIMEOUT = 60.0


@cache
def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("synapse_sdk.backend.store.migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _newest() -> int:
    """The schema version of the newest migration this SDK has."""
    migrations = _migrations()
    return migrations[-1][0] if migrations else 0


class Database:
    """One SQLite file shared by many processes; one connection per thread.

    ``busy_timeout`` is how many seconds a write waits for the lock another process holds.
    """

    def __init__(self, path: str | Path, *, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._version: int | None = None  # the schema version the first connection found
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot_open(self.path, os_reason(exc)) from exc
        self._migrate()

    def __repr__(self) -> str:
        return f"Database({str(self.path)!r})"

    def connect(self) -> sqlite3.Connection:
        """Return this thread's connection, opening it on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                if self._version is None:  # whose file it is, before anything here changes it
                    self._version = self._known_version(conn.execute("PRAGMA user_version").fetchone()[0])
                conn.execute("PRAGMA journal_mode = WAL")  # no lock taken when it is WAL already
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA foreign_keys = ON")
            except BaseException as exc:  # a newer SDK's database (BackendError) too: nothing stays open
                if conn is not None:
                    conn.close()
                if isinstance(exc, sqlite3.Error):
                    raise_ours(exc, self)
                raise
            self._local.conn = conn
        return conn

    def query(self, sql: str, params: tuple[object, ...] | list[object] = ()) -> list[sqlite3.Row]:
        """Every row ``sql`` selects."""
        try:
            return self.connect().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise_ours(exc, self)

    def query_one(self, sql: str, params: tuple[object, ...] | list[object] = ()) -> sqlite3.Row | None:
        """The first row ``sql`` selects, or None."""
        try:
            row: sqlite3.Row | None = self.connect().execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise_ours(exc, self)
        return row

    def write_one(self, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Cursor:
        """One statement as its own transaction: SQLite takes the write lock as the statement
        starts and waits for it like ``BEGIN IMMEDIATE``, with two round trips fewer."""
        try:
            return self.connect().execute(sql, params)
        except sqlite3.Error as exc:
            raise_ours(exc, self)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the lock up front, so writers queue instead of failing."""
        conn = self.connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise_ours(exc, self)
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                with suppress(sqlite3.Error):  # the failure that stopped the transaction is the one to report
                    conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise_ours(exc, self)
            raise

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _migrate(self) -> None:
        """Bring the schema up to the newest migration; a current one costs one read and no lock.

        The version is read again under the write lock: another process may have migrated
        meanwhile (or a newer SDK may have).
        """
        self.connect()  # reads the version, without a lock
        if self._version == _newest():
            return
        with self.write() as conn:
            version = self._known_version(conn.execute("PRAGMA user_version").fetchone()[0])
            for number, sql in _migrations():
                if number > version:
                    for statement in _statements(sql):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {number}")
        self._version = _newest()

    def _known_version(self, version: int) -> int:
        """``version``, unless it is past the newest migration: a newer SDK's database is not ours to use."""
        newest = _newest()
        if version > newest:
            raise BackendError(
                f"database {self.path} was written by a newer Synapse SDK (schema {version}; this one "
                f"knows up to {newest}): upgrade {DISTRIBUTION} (pip install -U {DISTRIBUTION}), or set "
                "SYNAPSE_HOME to another folder"
            )
        return version


def raise_ours(exc: sqlite3.Error, db: Database) -> NoReturn:
    """Raise a ``BackendError`` naming ``db``'s file and the fix, ``from exc``.

    ``IntegrityError`` (the store's to interpret) and ``ProgrammingError`` / ``InterfaceError``
    (a bug: a value SQLite cannot bind) are raised unchanged.
    """
    if isinstance(exc, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.InterfaceError):
        raise exc
    raise _translate(exc, db) from exc


def _translate(exc: sqlite3.Error, db: Database) -> BackendError:
    path, name = db.path, getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    what = f"{exc} ({name})"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return BackendError(
            f"database {path} is locked ({what}): another process has held its write lock for more than "
            f"{db.busy_timeout:g}s; find it with 'fuser {path}' (or 'lsof {path}'), let it finish or stop "
            "it, then try again"
        )
    if name.startswith("SQLITE_CANTOPEN"):
        return _cannot_open(path, what)
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return BackendError(
            f"{path} is not a usable Synapse database ({what}): it is damaged or another program's file; "
            f"move it away (mv {path} {path}.broken) and run again to start a new one, or set SYNAPSE_HOME "
            "to another folder"
        )
    if name.startswith("SQLITE_FULL"):
        return BackendError(
            f"database {path} cannot grow ({what}): the disk is full; free space on it "
            f"(see 'df {path.parent}') or set SYNAPSE_HOME to a folder on another disk"
        )
    if name.startswith("SQLITE_IOERR"):
        return BackendError(
            f"disk I/O error on database {path} ({what}): the disk is full or failing, a file beside it "
            f"({path.name}-wal, {path.name}-shm) is not a regular file, or the folder is on a network file "
            f"system without locking; check 'df {path.parent}' and 'ls -la {path.parent}', or set "
            "SYNAPSE_HOME to a folder on a local disk"
        )
    if name.startswith("SQLITE_READONLY"):
        return BackendError(
            f"database {path} is read-only ({what}): this user cannot write the file, its folder, or "
            f"{path.name}-wal / {path.name}-shm beside it; check their permissions (ls -la {path.parent}) "
            "or set SYNAPSE_HOME to a writable folder"
        )
    return BackendError(f"database {path} failed: {what}")


def _cannot_open(path: Path, what: str) -> BackendError:
    if path.is_dir():
        fix = (
            f"the path is a folder, not a database file: move it away (mv {path} {path}.old), "
            "or set SYNAPSE_HOME to another folder"
        )
    elif path.is_file() and not os.access(path, os.R_OK | os.W_OK):
        fix = (
            f"this user cannot read and write it: check its permissions (ls -l {path}), "
            "or set SYNAPSE_HOME to a writable folder"
        )
    else:
        fix = folder_problem(path.parent)
    return BackendError(f"cannot open database {path} ({what}): {fix}")


def _statements(sql: str) -> list[str]:
    """Split a migration into statements the way SQLite does (comments and strings may hold ';')."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer)
            buffer = ""
    if buffer.strip() and not all(ln.strip().startswith("--") for ln in buffer.splitlines() if ln.strip()):
        raise ValueError(f"migration ends with an incomplete statement: {buffer.strip()[:80]!r}")
    return statements
