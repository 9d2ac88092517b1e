"""The platform's resources in the embedded store: one generic table store per :class:`ResourceSpec`.

Writes validate in one pass (``ResourceSpec.validate_many``) and insert in one transaction
(``executemany``); reads decode rows straight into dicts and page by id, so a listing of a
million rows streams in constant memory. SQLite's constraint failures become messages naming
the item and the field: a missing reference, a duplicate, a frozen ground-truth version.

Listings page by id (``id > last ORDER BY id``). So that each page costs its own rows, never a
sort of every match, a page reads through an index that keeps the filtered rows in id order
(one whose columns are all filtered on), or else walks the table by id.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence, Sized
from pathlib import PurePosixPath
from typing import Any

from pydantic_core import from_json, to_json

from synapse_sdk.backend.resources import RESOURCES, ItemName, ResourceSpec, bulk_write, unit_checksum
from synapse_sdk.backend.store.db import Database, raise_ours
from synapse_sdk.errors import ResourceConflict, ResourceNotFound, UsageError, did_you_mean

#: Rows fetched per page when a listing streams (``iterate``).
PAGE = 1000
#: Ids per ``IN (...)`` lookup (well under SQLite's limit of bound variables).
_LOOKUP = 5000
#: Where the CLI lists a resource (for the message of a missing id).
_LISTED_BY = {
    "storages": "synapse data storages list",
    "data_collections": "synapse data collections list",
    "data_units": "synapse data data-units list",
    "projects": "synapse data projects list",
    "tasks": "synapse data tasks list",
}


def encode(value: Any) -> str:
    """JSON text of a validated value (pydantic-core's encoder: compact, UTF-8, a few times json's speed)."""
    return to_json(value).decode()


def decode(text: str) -> Any:
    """The value of JSON text the store wrote."""
    return from_json(text)


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
        spec, name = self.spec, _namer(where, where == self.spec.name)
        now = time.time()
        stamps = (now, now) if spec.has_updated_at else (now,)
        prepare, verify = _BEFORE_INSERT.get(spec.name), _AFTER_INSERT.get(spec.name)
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
            raise self._explain(exc, rows, name) from None
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
            raise self._explain(exc, [changed], lambda _: where) from None
        return self.get(record_id)

    def delete(self, record_id: int) -> None:
        """Remove one record; ``ResourceConflict`` while others refer to it."""
        where = f"{self.spec.name}/{record_id}"
        in_use = _BEFORE_DELETE.get(self.spec.name)
        try:
            with self.db.write() as conn:
                user = in_use(conn, record_id) if in_use is not None else None
                if user is not None:
                    raise ResourceConflict(f"{where}: {user}; remove it first")
                cur = conn.execute(f"DELETE FROM {self.spec.name} WHERE id = ?", (record_id,))
        except sqlite3.IntegrityError as exc:
            if str(exc).startswith("FOREIGN KEY"):
                raise ResourceConflict(f"{where}: {self._referrers(record_id)}; remove them first") from None
            raise self._explain(exc, [], lambda _: where) from None
        if cur.rowcount == 0:
            raise self._missing(record_id)

    # -- reads ----------------------------------------------------------------------------------

    def get(self, record_id: int) -> dict[str, Any]:
        """One record; ``ResourceNotFound`` naming the resource and the id."""
        rows = self._rows(f"{self._select} WHERE id = ?", [record_id])
        if not rows:
            raise self._missing(record_id)
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
            raise self._missing(record_id)
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
                args.extend(_filter_value(v) for v in value)
            elif value is None:
                clauses.append(f"{key} IS NULL")
            else:
                clauses.append(f"{key} = ?")
                args.append(_filter_value(value))
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

    def _missing(self, record_id: int) -> ResourceNotFound:
        listed = _LISTED_BY.get(self.spec.name)
        hint = f"; list them with '{listed}'" if listed else ""
        return ResourceNotFound(f"{self.spec.singular} {record_id} does not exist{hint}")

    def _referrers(self, record_id: int) -> str:
        """Which records refer to this one (``3 assignments refer to it``)."""
        for spec in RESOURCES.values():
            for field, target in spec.references.items():
                if target == self.spec.name:
                    row = self.db.query_one(
                        f"SELECT COUNT(*) FROM {spec.name} WHERE {field} = ?", (record_id,)
                    )
                    if row and row[0]:
                        return f"{row[0]} {spec.name.replace('_', ' ')} refer to it ({field} = {record_id})"
        return "other records still refer to it"

    def _explain(self, exc: sqlite3.IntegrityError, rows: list[dict[str, Any]], name: ItemName) -> Exception:
        """Turn a constraint failure into a message naming the item and the field."""
        text = str(exc)
        if "frozen version" in text:
            return self._frozen(rows, name)
        if text.startswith("UNIQUE constraint failed"):
            columns = [c.split(".")[-1].strip() for c in text.split(":", 1)[1].split(",")]
            index, row = self._duplicate(rows, columns)
            shown = ", ".join(f"{c}={row.get(c)!r}" for c in columns) if row else ", ".join(columns)
            return ResourceConflict(f"{name(index)}: a {self.spec.singular} with {shown} exists already")
        if text.startswith("FOREIGN KEY constraint failed"):
            missing = self._broken_reference(rows, name)
            if missing is not None:
                return missing
            return ResourceConflict(f"{name(0)}: other records still refer to it; remove them first")
        if isinstance(exc, _Inconsistent):
            return UsageError(text)
        return UsageError(f"{name(0)}: {text}")

    def _frozen(self, rows: list[dict[str, Any]], name: ItemName) -> ResourceConflict:
        fix = "create a new version to change its items"
        if self.spec.name == "ground_truth_dataset_versions":
            return ResourceConflict(
                f"{name(0)}: the version is frozen: it cannot change or be unfrozen; {fix}"
            )
        frozen = {
            r[0] for r in self.db.query("SELECT id FROM ground_truth_dataset_versions WHERE is_frozen = 1")
        }
        for index, row in enumerate(rows):
            version = row.get("ground_truth_dataset_version")
            if version in frozen:
                return ResourceConflict(
                    f"{name(index)}.ground_truth_dataset_version: ground-truth dataset version {version} "
                    f"is frozen; {fix}"
                )
        return ResourceConflict(f"{name(0)}: its ground-truth dataset version is frozen; {fix}")

    def _duplicate(self, rows: list[dict[str, Any]], columns: list[str]) -> tuple[int, dict[str, Any] | None]:
        seen = set()
        clause = " AND ".join(f"{c} IS ?" for c in columns)
        for index, row in enumerate(rows):
            key = tuple(repr(row.get(c)) for c in columns)
            if key in seen:
                return index, row
            seen.add(key)
            args = [_filter_value(row.get(c)) for c in columns]
            if self.db.query_one(f"SELECT 1 FROM {self.spec.name} WHERE {clause}", args):
                return index, row
        return 0, rows[0] if rows else None

    def _broken_reference(self, rows: list[dict[str, Any]], name: ItemName) -> UsageError | None:
        """The first row naming a missing record (``tasks[3].project: project 9 does not exist``)."""
        for field, target in self.spec.references.items():
            wanted = {row[field] for row in rows if row.get(field) is not None}
            existing = _existing(self.db.connect(), target, wanted)
            for index, row in enumerate(rows):
                ref = row.get(field)
                if ref is not None and ref not in existing:
                    what = RESOURCES[target].singular if target in RESOURCES else target.rstrip("s")
                    return UsageError(f"{name(index)}.{field}: {what} {ref!r} does not exist")
        return None


class _Inconsistent(sqlite3.IntegrityError):
    """A row that breaks a rule across tables (a task's data unit from another collection)."""


def _namer(where: str, indexed: bool) -> ItemName:
    return (lambda i: f"{where}[{i}]") if indexed else (lambda _: where)


def _existing(conn: sqlite3.Connection, table: str, ids: set[Any]) -> set[Any]:
    """Which of ``ids`` are ids of ``table``."""
    found: set[Any] = set()
    wanted = list(ids)
    for start in range(0, len(wanted), _LOOKUP):
        chunk = wanted[start : start + _LOOKUP]
        found.update(
            r[0]
            for r in conn.execute(
                f"SELECT id FROM {table} WHERE id IN ({', '.join('?' * len(chunk))})", chunk
            )
        )
    return found


def _by_id(conn: sqlite3.Connection, sql: str, ids: set[Any]) -> dict[Any, tuple[Any, ...]]:
    """Rows of ``sql`` (``SELECT id, ... FROM t WHERE id IN ({})``) for ``ids``, by id."""
    found: dict[Any, tuple[Any, ...]] = {}
    wanted = list(ids)
    for start in range(0, len(wanted), _LOOKUP):
        chunk = wanted[start : start + _LOOKUP]
        for row in conn.execute(sql.format(", ".join("?" * len(chunk))), chunk):
            found[row[0]] = tuple(row)
    return found


def _unit_files(conn: sqlite3.Connection, rows: list[dict[str, Any]], name: ItemName) -> None:
    """A data unit's files exist, are the ones its collection specifies, and carry their path and sha256."""
    collections = _by_id(
        conn,
        "SELECT id, name, file_specifications FROM data_collections WHERE id IN ({})",
        {row["data_collection"] for row in rows},
    )
    files = _by_id(
        conn,
        "SELECT id, path, checksum FROM data_files WHERE id IN ({})",
        {f["data_file"] for row in rows for f in row["files"].values()},
    )
    specs_of: dict[int, dict[str, dict[str, Any]]] = {
        cid: {s["name"]: s for s in decode(specs)} for cid, (_, _, specs) in collections.items()
    }
    for index, row in enumerate(rows):
        where, collection = name(index), row["data_collection"]
        if collection not in collections:
            raise UsageError(f"{where}.data_collection: data collection {collection} does not exist")
        specs, title = specs_of[collection], collections[collection][1]
        for key, entry in row["files"].items():
            spec = specs.get(key)
            if specs and spec is None:
                raise UsageError(
                    f"{where}.files.{key}: data collection {title!r} has no file specification {key!r}"
                    f"{did_you_mean(key, specs)}; its specifications: {', '.join(specs)}"
                )
            found = files.get(entry["data_file"])
            if found is None:
                raise UsageError(
                    f"{where}.files.{key}.data_file: data file {entry['data_file']} does not exist"
                )
            _, path, checksum = found
            if entry.get("checksum", checksum) != checksum:
                raise UsageError(
                    f"{where}.files.{key}.checksum: data file {entry['data_file']} has sha256 {checksum}, "
                    f"not {entry['checksum']}; leave it out to take the data file's"
                )
            if entry.get("path", path) != path:
                raise UsageError(
                    f"{where}.files.{key}.path: data file {entry['data_file']} is at {path!r}, "
                    f"not {entry['path']!r}; leave it out to take the data file's"
                )
            allowed = [e.lower() for e in (spec or {}).get("extensions") or []]
            suffix = PurePosixPath(path).suffix.lower()
            if allowed and suffix not in allowed:
                raise UsageError(
                    f"{where}.files.{key}: data file {entry['data_file']} is a "
                    f"{suffix or 'file without extension'} file; file specification {key!r} takes "
                    f"{', '.join(allowed)}"
                )
            entry.setdefault("path", path)
            entry.setdefault("checksum", checksum)
        for spec_name, spec in specs.items():
            if spec.get("is_required") and spec_name not in row["files"]:
                raise UsageError(f"{where}.files: {spec_name!r} is required by data collection {title!r}")
        if row.get("checksum") is None:
            row["checksum"] = unit_checksum(row["files"])


def _consistent(sql: str, message: Callable[[tuple[Any, ...]], str]) -> Callable[..., None]:
    """A rule across tables checked on the rows just inserted (``sql`` takes the last id before them)."""

    def verify(conn: sqlite3.Connection, before: int, name: ItemName) -> None:
        row = conn.execute(sql, (before,)).fetchone()
        if row is not None:
            raise _Inconsistent(f"{name(row[0] - before - 1)}.{message(tuple(row))}")

    return verify


_BEFORE_INSERT: dict[str, Callable[[sqlite3.Connection, list[dict[str, Any]], ItemName], None]] = {
    "data_units": _unit_files,
}
_AFTER_INSERT: dict[str, Callable[[sqlite3.Connection, int, ItemName], None]] = {
    "tasks": _consistent(
        "SELECT t.id, t.data_unit, u.data_collection, t.project, p.data_collection FROM tasks AS t "
        "JOIN projects AS p ON p.id = t.project JOIN data_units AS u ON u.id = t.data_unit "
        "WHERE t.id > ? AND p.data_collection IS NOT NULL AND u.data_collection != p.data_collection LIMIT 1",
        lambda r: (
            f"data_unit: data unit {r[1]} is of data collection {r[2]}; project {r[3]} annotates "
            f"data collection {r[4]}"
        ),
    ),
    "assignments": _consistent(
        "SELECT a.id, a.task, t.project, a.project FROM assignments AS a JOIN tasks AS t ON t.id = a.task "
        "WHERE a.id > ? AND t.project != a.project LIMIT 1",
        lambda r: f"project: task {r[1]} is in project {r[2]}, not {r[3]}",
    ),
}


def _unit_using(conn: sqlite3.Connection, data_file: int) -> str | None:
    """Which data unit names this data file among its files (units refer to files inside JSON)."""
    row = conn.execute(
        "SELECT u.id, f.key FROM data_units AS u, json_each(u.files) AS f "
        "WHERE json_extract(f.value, '$.data_file') = ? LIMIT 1",
        (data_file,),
    ).fetchone()
    return None if row is None else f"data unit {row[0]} holds it as its {row[1]!r} file"


_BEFORE_DELETE: dict[str, Callable[[sqlite3.Connection, int], str | None]] = {"data_files": _unit_using}


def _last_id(conn: sqlite3.Connection, table: str) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    return int(row[0]) if row else 0


def _filter_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return encode(value)
    return value
