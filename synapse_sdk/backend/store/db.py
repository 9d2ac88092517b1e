"""The SQLite database of the embedded store (WAL, busy timeout), its migrations, and its errors.

Every statement of the store goes through :class:`Database` (``query``, ``query_one``,
``write_one``, ``write``), which turns SQLite's failures into a ``BackendError`` naming the
file and the fix (:func:`raise_ours`). ``IntegrityError`` stays a ``sqlite3`` error for the
store to turn into the conflict it means; ``ProgrammingError`` (a value SQLite cannot bind) is
a bug and stays one too.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import NoReturn

from synapse_sdk.errors import BackendError

#: How long a writer waits for another process's write lock before "database is locked".
BUSY_TIMEOUT = 60.0


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("synapse_sdk.backend.store.migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """One SQLite file shared by many processes; one connection per thread.

    ``busy_timeout`` is how many seconds a write waits for the lock another process holds.
    """

    def __init__(self, path: str | Path, *, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot_open(self.path, f"{type(exc).__name__}: {exc}") from exc
        with self.write() as conn:
            self._migrate(conn)

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
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA foreign_keys = ON")
            except sqlite3.Error as exc:
                if conn is not None:
                    conn.close()
                raise_ours(exc, self)
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

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, sql in _migrations():
            if number > version:
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")


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
        cause = "the path is a folder, not a database file: move it away"
    elif not path.parent.is_dir():
        cause = f"its folder {path.parent} does not exist and cannot be made (is a file in the way?)"
    else:
        cause = f"this user cannot create or write files in {path.parent}: check its permissions"
    return BackendError(
        f"cannot open database {path} ({what}): {cause}, or set SYNAPSE_HOME to a writable folder"
    )


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
