"""Excel (.xlsx) or CSV metadata of an upload: one row per file, attached as its data unit's ``meta``.

The first non-empty row is the header; the file-name column is the one headed ``file_name``,
``filename``, ``file name`` or ``name`` (any case), else the first column. Every other non-empty
cell of a row becomes ``{header: value}``::

    file_name | camera | taken_at
    a.jpg     | front  | 2024-05-01 10:00
    ->  {"a.jpg": {"camera": "front", "taken_at": "2024-05-01T10:00:00"}}

Workbooks are streamed (openpyxl read-only), and every limit is checked before or while
reading, so a huge or hostile file costs little before it is refused with a :class:`MetadataError`.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synapse_sdk.errors import UsageError

__all__ = [
    "KEY_HEADERS",
    "SUFFIXES",
    "Metadata",
    "MetadataError",
    "MetadataLimits",
    "read_metadata",
]

#: The metadata file types read, by suffix.
SUFFIXES = (".xlsx", ".csv")
#: Headers that name the file-name column, compared case-insensitively, the first found wins.
KEY_HEADERS = ("file_name", "filename", "file name", "name")

_MB = 1024 * 1024
_CSV_SAMPLE = 64 * 1024
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
_MAX_DIGITS = 30  # longer digit strings (ids, barcodes) stay text


@dataclass(frozen=True)
class MetadataLimits:
    """How large a metadata file may be; each limit is checked before or while reading."""

    max_file_mb: float = 10
    max_rows: int = 100_000
    max_columns: int = 50
    max_cell_chars: int = 2_000


class MetadataError(UsageError):
    """A metadata file cannot be used: the message names the file, the cell or row, and the fix."""

    def __init__(self, message: str, path: Path | None = None, cell: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.cell = cell


@dataclass
class Metadata:
    """The rows of a metadata file keyed by their file-name cell, matched to a data unit's files."""

    #: File-name cell (as written, surrounding spaces removed) -> ``{header: value}`` of the row.
    rows: dict[str, dict[str, Any]]
    _index: dict[str, str] = field(init=False, repr=False, compare=False)
    _used: set[str] = field(default_factory=set, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Rows written with Windows separators or a leading './' match like plain relative paths.
        self._index = {_normal(key): key for key in self.rows}

    def for_files(self, files: Mapping[str, Path], key: str | None = None) -> dict[str, Any]:
        """The row of a data unit's files, ``{}`` when none: by a file's name (``'a.jpg'``), else its stem.

        With the unit's ``key`` (its relative stem, ``'x/a'``), rows naming the relative path
        (``'x/a.jpg'``, ``'x/a'``) come first. Files are tried in the mapping's order.
        """
        for candidate in _candidates(files, key):
            row_key = self._index.get(candidate)
            if row_key is not None:
                self._used.add(row_key)
                return dict(self.rows[row_key])
        return {}

    @property
    def unused(self) -> list[str]:
        """Keys no :meth:`for_files` call has matched yet, in file order: worth a warning."""
        return [key for key in self.rows if key not in self._used]


def _normal(key: str) -> str:
    r"""A file-name cell as a lookup key: ``.\x\a.jpg`` and ``./x/a.jpg`` -> ``x/a.jpg``."""
    key = key.replace("\\", "/")
    return key[2:] if key.startswith("./") else key


def _candidates(files: Mapping[str, Path], key: str | None) -> Iterator[str]:
    """Lookup keys from the most to the least specific: relative name and stem, then name, then stem."""
    if key is not None:
        yield from (f"{key}{path.suffix}" for path in files.values())
        yield key
    yield from (path.name for path in files.values())
    yield from (path.stem for path in files.values())


def read_metadata(path: Path, limits: MetadataLimits = MetadataLimits()) -> Metadata:
    """Read an ``.xlsx`` (first sheet) or ``.csv`` metadata file into rows keyed by file name."""
    if _check_file(path, limits) == ".xlsx":
        return Metadata(_Table(path, limits).read(_xlsx_rows(path)))
    return Metadata(_Table(path, limits, parse_numbers=True).read(_csv_rows(path)))


def _check_file(path: Path, limits: MetadataLimits) -> str:
    """The file's suffix, once its type, existence and size are fine (nothing is opened yet)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise MetadataError(
            f"{path}: metadata must be a {' or '.join(SUFFIXES)} file, not '{suffix or 'no suffix'}'; "
            "save it as .xlsx or export it as CSV",
            path,
        )
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise MetadataError(f"{path}: {what}; give the path of a {suffix} metadata file", path)
    size = path.stat().st_size
    if size > limits.max_file_mb * _MB:
        raise MetadataError(
            f"{path}: {size / _MB:.1f} MB, over the {limits.max_file_mb:g} MB limit of metadata files; "
            "split the file or raise the limit (max_file_mb)",
            path,
        )
    return suffix


def _xlsx_rows(path: Path) -> Iterator[Sequence[Any]]:
    """The first sheet's rows as value tuples, streamed; a broken workbook is a :class:`MetadataError`."""
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # openpyxl ships no type hints

    try:
        with warnings.catch_warnings():
            # Warnings about what read-only mode ignores (data validation, styles) say nothing of values.
            warnings.simplefilter("ignore")
            workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - zipfile, XML and openpyxl errors alike mean "not a workbook"
        raise _not_a_workbook(path, exc) from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # trust the rows themselves, not the sheet's declared size
        yield from sheet.iter_rows(values_only=True)
    except Exception as exc:  # noqa: BLE001 - a corrupt sheet fails mid-stream with any of many errors
        raise _not_a_workbook(path, exc) from None
    finally:
        workbook.close()


def _not_a_workbook(path: Path, exc: Exception) -> MetadataError:
    """The error of a file that openpyxl cannot read, with a hint when it is really text (a CSV)."""
    with path.open("rb") as file:
        head = file.read(512)
    hint = (
        "if it is CSV, rename it to .csv"
        if _looks_like_text(head)
        else "open it in Excel and save it as .xlsx"
    )
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return MetadataError(f"{path}: not a valid .xlsx workbook ({reason}); {hint}", path)


def _looks_like_text(head: bytes) -> bool:
    """Whether the first bytes of a file decode as UTF-8 text without control characters."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(char.isprintable() or char in "\r\n\t" for char in text.lstrip("\ufeff"))


def _csv_rows(path: Path) -> Iterator[Sequence[Any]]:
    """The rows of a UTF-8 CSV (a BOM is fine) separated by ``,``, ``;`` or tab."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            delimiter = _delimiter(file.read(_CSV_SAMPLE))
            file.seek(0)
            reader = csv.reader(file, delimiter=delimiter)
            try:
                yield from reader
            except csv.Error as exc:
                raise MetadataError(
                    f"{path}: line {reader.line_num} is not valid CSV ({exc}); fix the line or save it again",
                    path,
                ) from None
    except UnicodeDecodeError as exc:
        raise MetadataError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8' or as .xlsx", path
        ) from None


def _delimiter(sample: str) -> str:
    """The separator a CSV sample uses: ``,``, ``;`` or tab (``,`` when the sample cannot tell)."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _number(value: Any) -> Any:
    """A CSV cell's text as a number if it is a plain integer or decimal (``'007'``, ``'1e5'`` stay text)."""
    if not isinstance(value, str) or len(value) > _MAX_DIGITS:
        return value
    if _INTEGER.fullmatch(value):
        return int(value)
    if _DECIMAL.fullmatch(value):
        return float(value)
    return value


class _Table:
    """Rows of cell values turned into the rows dict, checking headers, keys and limits as they stream."""

    def __init__(self, path: Path, limits: MetadataLimits, parse_numbers: bool = False) -> None:
        self.path = path
        self.limits = limits
        self.parse_numbers = parse_numbers  # CSV cells are all text; workbook cells have their types
        self.headers: list[str] = []
        self.key_column = 0
        self.rows: dict[str, dict[str, Any]] = {}
        self.key_rows: dict[str, int] = {}  # key -> its row number, to name both rows of a duplicate

    def read(self, rows: Iterator[Sequence[Any]]) -> dict[str, dict[str, Any]]:
        """Consume the rows: the first non-empty one is the header, each later one a file's metadata."""
        for number, row in enumerate(rows, start=1):
            values = [_cell_value(value) for value in row]
            if all(value is None for value in values):
                continue
            if self.headers:
                self._row(number, values)
            else:
                self._header(number, values)
        if not self.headers:
            raise MetadataError(
                f"{self.path}: no rows; add a header row (file_name, ...) and one row per file"
            )
        return self.rows

    def _header(self, number: int, values: list[Any]) -> None:
        """The header row: names unique and non-empty, no more columns than the limit."""
        while values[-1] is None:
            values.pop()
        if len(values) > self.limits.max_columns:
            raise self._error(
                f"{len(values)} columns, over the limit of {self.limits.max_columns}; "
                "split the file or raise the limit (max_columns)",
                _cell(len(values) - 1, number),
            )
        seen: dict[str, int] = {}
        for column, value in enumerate(values):
            header = "" if value is None else str(value).strip()
            if not header:
                raise self._error("empty header; name the column or delete it", _cell(column, number))
            if header in seen:
                raise self._error(
                    f"header {header!r} repeats {_cell(seen[header], number)}; rename one of them",
                    _cell(column, number),
                )
            seen[header] = column
            self._check_length(header, column, number)
        self.headers = list(seen)
        lowered = [header.lower() for header in self.headers]
        self.key_column = next((lowered.index(name) for name in KEY_HEADERS if name in lowered), 0)

    def _row(self, number: int, values: list[Any]) -> None:
        """One data row: its key unique and present, its cells under headers and within limits."""
        if len(self.rows) >= self.limits.max_rows:
            raise self._error(
                f"more than {self.limits.max_rows:,} rows, over the limit; "
                "split the file or raise the limit (max_rows)",
                f"row {number}",
            )
        meta: dict[str, Any] = {}
        for column, value in enumerate(values):
            if value is None:
                continue
            if column >= len(self.headers):
                raise self._error(
                    "a value in a column without header; add the header or clear the cell",
                    _cell(column, number),
                )
            self._check_length(value, column, number)
            if column != self.key_column:
                meta[self.headers[column]] = _number(value) if self.parse_numbers else value
        self._add(self._key(values, number), meta, number)

    def _key(self, values: list[Any], number: int) -> str:
        """The row's file-name cell as text (``1001.0`` -> ``'1001'``); empty is an error."""
        value = values[self.key_column] if self.key_column < len(values) else None
        if value is None:
            raise self._error(
                f"no {self.headers[self.key_column]!r} but the row has values; fill it in or delete the row",
                _cell(self.key_column, number),
            )
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)

    def _add(self, key: str, meta: dict[str, Any], number: int) -> None:
        """Keep a row under its key; a key seen before is an error naming both rows."""
        if key in self.rows:
            first = _cell(self.key_column, self.key_rows[key])
            raise self._error(
                f"{key!r} is also in {first}; keep one row per file", _cell(self.key_column, number)
            )
        self.rows[key] = meta
        self.key_rows[key] = number

    def _check_length(self, value: Any, column: int, number: int) -> None:
        """A cell's text may not be longer than the limit."""
        if isinstance(value, str) and len(value) > self.limits.max_cell_chars:
            raise self._error(
                f"{len(value):,} characters, over the limit of {self.limits.max_cell_chars:,}; "
                "shorten the cell or raise the limit (max_cell_chars)",
                _cell(column, number),
            )

    def _error(self, what: str, where: str) -> MetadataError:
        """An error naming the file and the cell (or row) it is about."""
        return MetadataError(f"{self.path}: {where}: {what}", self.path, where)


def _cell_value(value: Any) -> Any:
    """A cell as JSON-ready metadata: dates and times as ISO text, blank text as ``None``.

    Excel stores a date as a datetime at midnight; such a value reads as the date, ``'2024-05-01'``.
    """
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dt.datetime) and value.time() == dt.time() and value.tzinfo is None:
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):  # a datetime is a date
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return value


def _cell(column: int, row: int) -> str:
    """The Excel name of a cell from its 0-based column and 1-based row: ``(1, 7)`` -> ``'B7'``."""
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"{letters}{row}"
