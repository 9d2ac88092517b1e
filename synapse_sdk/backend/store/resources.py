"""The platform's resources in the embedded store: one generic table store per :class:`ResourceSpec`.

Writes validate in one pass (``ResourceSpec.validate_many``) and insert in one transaction
(``executemany``); reads decode rows straight into dicts and page by id, so a listing of a
million rows streams in constant memory. Rules across tables are checked inside the write
(``store/rules.py``); SQLite's constraint failures become messages naming the item and the
field (``store/constraints.py``): a missing reference, a duplicate, a frozen ground-truth version.

Listings page by id (``id > last ORDER BY id``). So that each page costs its own rows, never a
sort of every match, a page reads through an index that keeps the filtered rows in id order
(one whose columns are all filtered on), or else walks the table by id.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence, Sized
from typing import Any

from pydantic_core import from_json

from synapse_sdk.backend.bulk import bulk_write
from synapse_sdk.backend.spec import ItemName, ResourceSpec, item_namer
from synapse_sdk.backend.store.constraints import explain, missing, referrers
from synapse_sdk.backend.store.db import Database, raise_ours
from synapse_sdk.backend.store.rules import AFTER_INSERT, BEFORE_DELETE, BEFORE_INSERT
from synapse_sdk.backend.store.sql import encode, filter_value
from synapse_sdk.errors import ResourceConflict, UsageError

#: Rows fetched per page when a listing streams (``iterate``).
PAGE = 1000


class SqlResource:
    """One resource's table: create (one or many), get, update, delete, count, page and iterate."""

    def __init__(self, db: Database, spec: ResourceSpec) -> None:
        self.db = db
        self.spec = spec
        fields = spec.fields
        stamps = ("created_at", "updated_at") if spec.has_updated_at else ("created_at",)
        self._insert = (
            f"INSERT INTO {spec.name} ({', '.join((*fields, *stamps))}) "
            f"VALUES ({', '.join('?' * (len(fields) + len(stamps)))})"
        )
        self._select = f"SELECT {', '.join(spec.columns)} FROM {spec.name}"
        self._json = tuple(f for f in fields if f in spec.json_fields)
        self._bools = tuple(f for f in fields if f in spec.bool_fields)
        self._indexes: list[tuple[str, frozenset[str]]] | None = None
        self._record_sql: str | None = None

    def __repr__(self) -> str:
        return f"SqlResource({self.spec.name!r})"

    # -- writes ---------------------------------------------------------------------------------

    def create(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Validate and store one record; returns it with its ``id``."""
        return self.create_many([item], where=self.spec.singular)[0]

    def create_many(
        self, items: Sequence[Mapping[str, Any]], where: str | None = None
    ) -> list[dict[str, Any]]:
        """Validate every item, then store them all or none; returns the records with their ids."""
        with bulk_write(len(items) if isinstance(items, Sized) else 0):
            rows = self.spec.validate_many(items, where)
            return self.insert_valid(rows, where or self.spec.name)

    def insert_valid(self, rows: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
        """Store validated rows in one transaction (ids are consecutive: the write lock is held).

        ``where`` names the rows in messages as :meth:`ResourceSpec.validate_many` does.
        """
        if not rows:
            return []
        spec, name = self.spec, item_namer(where, where == self.spec.name)
        now = time.time()
        stamps = (now, now) if spec.has_updated_at else (now,)
        prepare, verify = BEFORE_INSERT.get(spec.name), AFTER_INSERT.get(spec.name)
        try:
            with self.db.write() as conn:
                if prepare is not None:
                    prepare(conn, rows, name)
                values = self._values(rows, stamps)
                for flag in spec.exclusive:
                    self._clear_flag(conn, flag, rows, name)
                before = _last_id(conn, spec.name)
                conn.executemany(self._insert, values)
                if verify is not None:
                    verify(conn, before, name)
        except sqlite3.IntegrityError as exc:
            raise explain(self.db, self.spec, exc, rows, name) from None
        created = dict(zip(spec.columns[-len(stamps) :], stamps, strict=True))
        return [{"id": before + i, **row, **created} for i, row in enumerate(rows, start=1)]

    def update(self, record_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Change the updatable ``fields`` of one record; returns it as stored (no change: no write)."""
        spec = self.spec
        where = f"{spec.name}/{record_id}"
        changed = spec.validate_update(fields, where)  # refuse a bad request before taking the write lock
        try:
            with self.db.write() as conn:
                current = self._fetch(conn, record_id)
                valid = spec.validate_update(fields, where, current)
                changed = {k: v for k, v in valid.items() if v != current[k]}
                if changed:
                    for flag in spec.exclusive:
                        if changed.get(flag):
                            conn.execute(
                                f"UPDATE {spec.name} SET {flag} = 0 WHERE {flag} = 1 AND id != ?",
                                (record_id,),
                            )
                    sets = [f"{k} = ?" for k in changed]
                    args = [encode(v) if k in spec.json_fields else v for k, v in changed.items()]
                    if spec.has_updated_at:
                        sets.append("updated_at = ?")
                        args.append(time.time())
                    conn.execute(f"UPDATE {spec.name} SET {', '.join(sets)} WHERE id = ?", (*args, record_id))
        except sqlite3.IntegrityError as exc:
            raise explain(self.db, self.spec, exc, [changed], lambda _: where) from None
        return self.get(record_id)

    def delete(self, record_id: int) -> None:
        """Remove one record; ``ResourceConflict`` while others refer to it."""
        where = f"{self.spec.name}/{record_id}"
        in_use = BEFORE_DELETE.get(self.spec.name)
        try:
            with self.db.write() as conn:
                user = in_use(conn, record_id) if in_use is not None else None
                if user is not None:
                    raise ResourceConflict(f"{where}: {user}; remove it first")
                cur = conn.execute(f"DELETE FROM {self.spec.name} WHERE id = ?", (record_id,))
        except sqlite3.IntegrityError as exc:
            if str(exc).startswith("FOREIGN KEY"):
                users = referrers(self.db, self.spec, record_id)
                raise ResourceConflict(f"{where}: {users}; remove them first") from None
            raise explain(self.db, self.spec, exc, [], lambda _: where) from None
        if cur.rowcount == 0:
            raise missing(self.spec, record_id)

    # -- reads ----------------------------------------------------------------------------------

    def get(self, record_id: int) -> dict[str, Any]:
        """One record; ``ResourceNotFound`` naming the resource and the id."""
        rows = self._rows(f"{self._select} WHERE id = ?", [record_id])
        if not rows:
            raise missing(self.spec, record_id)
        return rows[0]

    def find(self, record_id: int) -> dict[str, Any] | None:
        """One record, or None."""
        rows = self._rows(f"{self._select} WHERE id = ?", [record_id])
        return rows[0] if rows else None

    def count(self, filters: Mapping[str, Any] | None = None) -> int:
        """How many records match ``filters``."""
        where, args = self._where(self.spec.check_filters(filters or {}))
        row = self.db.query_one(f"SELECT COUNT(*) FROM {self.spec.name}{where}", args)
        return int(row[0]) if row else 0

    def page(
        self, filters: Mapping[str, Any] | None = None, *, after: int = 0, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` records matching ``filters``, by id: those after id ``after`` (cursor
        mode) or, skipping ``offset`` of them (page mode)."""
        return self._page(self.spec.check_filters(filters or {}), after, limit, offset)

    def iterate(
        self, filters: Mapping[str, Any] | None = None, *, page_size: int = PAGE
    ) -> Iterator[dict[str, Any]]:
        """Every record matching ``filters``, by id, a page at a time (constant memory)."""
        checked = self.spec.check_filters(filters or {})
        return self._iterate(checked, page_size)

    def page_json(
        self, filters: Mapping[str, Any] | None = None, *, after: int = 0, limit: int = 100, offset: int = 0
    ) -> tuple[str, int, int]:
        """:meth:`page` as the JSON text of its list of records, with how many and the last id.

        SQLite writes the JSON (stored JSON fields as they are, numbers that read back the
        same), so a server answers a listing without decoding and encoding each record.
        """
        checked = self.spec.check_filters(filters or {})
        where, args = self._where(checked, after=after)
        sql = (
            f"SELECT id, {self._json_record()} FROM {self.spec.name}{self._index_for(checked)}{where} "
            "ORDER BY id LIMIT ? OFFSET ?"
        )
        try:
            rows = self.db.connect().execute(sql, [*args, limit, offset]).fetchall()
        except sqlite3.Error as exc:
            raise_ours(exc, self.db)
        return "[" + ",".join(row[1] for row in rows) + "]", len(rows), rows[-1][0] if rows else after

    def _json_record(self) -> str:
        """The SQL expression of one row as a JSON object, keys in column order."""
        if self._record_sql is None:
            declared = {
                row[1]: str(row[2]).upper() for row in self.db.query(f"PRAGMA table_info({self.spec.name})")
            }
            parts: list[str] = []
            for column in self.spec.columns:
                if column in self.spec.json_fields:
                    value = f"ifnull({column}, 'null')"
                elif column in self.spec.bool_fields:
                    value = f"CASE WHEN {column} THEN 'true' ELSE 'false' END"
                elif declared[column] == "REAL":  # 17 digits read back as the same float; '!' keeps '.0'
                    value = f"CASE WHEN {column} IS NULL THEN 'null' ELSE printf('%!.17g', {column}) END"
                elif declared[column] == "INTEGER":
                    value = f"ifnull({column}, 'null')"
                else:
                    value = f"json_quote({column})"
                parts.append(f"'{',' if parts else '{'}\"{column}\":' || {value}")
            self._record_sql = " || ".join(parts) + " || '}'"
        return self._record_sql

    def _iterate(self, checked: dict[str, Any], page_size: int) -> Iterator[dict[str, Any]]:
        after = 0
        while True:
            rows = self._page(checked, after, page_size, 0)
            yield from rows
            if len(rows) < page_size:
                return
            after = rows[-1]["id"]

    # -- plumbing -------------------------------------------------------------------------------

    def _values(self, rows: list[dict[str, Any]], stamps: tuple[float, ...]) -> list[tuple[Any, ...]]:
        """The rows as ``executemany`` parameters, a column at a time (JSON fields encoded, None as NULL)."""
        columns = [
            [None if (v := row[f]) is None else encode(v) for row in rows]
            if f in self.spec.json_fields
            else [row[f] for row in rows]
            for f in self.spec.fields
        ]
        return list(zip(*columns, *(itertools.repeat(stamp, len(rows)) for stamp in stamps), strict=False))

    def _clear_flag(
        self, conn: sqlite3.Connection, flag: str, rows: list[dict[str, Any]], name: ItemName
    ) -> None:
        """Only one record has ``flag`` set: a new one that sets it clears it on the others."""
        setting = [index for index, row in enumerate(rows) if row.get(flag)]
        if len(setting) > 1:
            raise UsageError(
                f"{name(setting[1])}.{flag}: only one {self.spec.singular} can have {flag}; "
                f"{name(setting[0])} has it too"
            )
        if setting:
            conn.execute(f"UPDATE {self.spec.name} SET {flag} = 0 WHERE {flag} = 1")

    def _fetch(self, conn: sqlite3.Connection, record_id: int) -> dict[str, Any]:
        cur = conn.execute(f"{self._select} WHERE id = ?", (record_id,))
        cur.row_factory = None
        row = cur.fetchone()
        if row is None:
            raise missing(self.spec, record_id)
        return self._decode([row])[0]

    def _page(self, checked: dict[str, Any], after: int, limit: int, offset: int) -> list[dict[str, Any]]:
        where, args = self._where(checked, after=after)
        hint = self._index_for(checked)
        return self._rows(f"{self._select}{hint}{where} ORDER BY id LIMIT ? OFFSET ?", [*args, limit, offset])

    def _rows(self, sql: str, args: list[Any]) -> list[dict[str, Any]]:
        try:
            cur = self.db.connect().execute(sql, args)
            cur.row_factory = None  # tuples: a Row per row costs more than the dict built here
            raw = cur.fetchall()
        except sqlite3.Error as exc:
            raise_ours(exc, self.db)
        return self._decode(raw)

    def _decode(self, raw: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        columns, json_fields, bools = self.spec.columns, self._json, self._bools
        out = [dict(zip(columns, values)) for values in raw]  # noqa: B905 - the select's own columns
        for record in out:
            for key in json_fields:
                text = record[key]
                if text is not None:
                    record[key] = from_json(text)
            for key in bools:
                record[key] = bool(record[key])
        return out

    def _where(self, checked: Mapping[str, Any], *, after: int = 0) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        for key, value in checked.items():
            if key == "assignment" and self.spec.name == "tasks":
                value = value if isinstance(value, list) else [value]
                clauses.append(
                    f"id IN (SELECT task FROM assignments WHERE id IN ({', '.join('?' * len(value))}))"
                )
                args.extend(value)
            elif isinstance(value, list):
                clauses.append(f"{key} IN ({', '.join('?' * len(value))})")
                args.extend(filter_value(v) for v in value)
            elif value is None:
                clauses.append(f"{key} IS NULL")
            else:
                clauses.append(f"{key} = ?")
                args.append(filter_value(value))
        if after:
            clauses.append("id > ?")
            args.append(after)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    def _index_for(self, checked: Mapping[str, Any]) -> str:
        """``INDEXED BY`` an index that keeps the matches in id order, else ``NOT INDEXED`` (by id)."""
        keys = set(checked)
        if not keys or "assignment" in keys:
            return ""
        if self._indexes is None:
            self._indexes = self._read_indexes()
        fitting = [(len(cols), name) for name, cols in self._indexes if cols <= keys]
        return f" INDEXED BY {max(fitting)[1]}" if fitting else " NOT INDEXED"

    def _read_indexes(self) -> list[tuple[str, frozenset[str]]]:
        found = []
        for row in self.db.query(f"PRAGMA index_list({self.spec.name})"):
            columns = [info[2] for info in self.db.query(f"PRAGMA index_info({row[1]})")]
            if columns and None not in columns:  # an index on an expression cannot order plain columns
                found.append((str(row[1]), frozenset(columns)))
        return found


def _last_id(conn: sqlite3.Connection, table: str) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    return int(row[0]) if row else 0
