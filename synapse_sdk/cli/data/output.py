"""How ``synapse data`` prints records: a table a page at a time, or a JSON list (``--json``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

JSON_HELP = "Print JSON."
LIMIT_HELP = "How many, oldest first; 0 for all."

#: A table column: header, width, and the cell of a record.
Column = tuple[str, int, Callable[[dict[str, Any]], object]]


def show(found: tuple[Iterable[dict[str, Any]], int], columns: list[Column], *, what: str,
         as_json: bool, limit: int = 0, empty: str = "") -> None:  # fmt: skip
    """Print records as a table (or a JSON list), a page at a time; say on stderr what was left out."""
    import itertools

    rows, count = found
    shown: Iterator[dict[str, Any]] = iter(rows) if limit <= 0 else itertools.islice(rows, limit)
    n = 0
    if as_json:
        sys.stdout.write("[")
        for n, record in enumerate(shown, start=1):
            sys.stdout.write(("\n  " if n == 1 else ",\n  ") + json.dumps(record, default=str))
        sys.stdout.write("\n]\n" if n else "]\n")
    else:
        for n, record in enumerate(shown, start=1):
            if n == 1:
                print(" ".join(f"{h:<{w}}" for h, w, _ in columns).rstrip())
            print(" ".join(f"{_cell(cell(record)):<{w}}" for _, w, cell in columns).rstrip())
        if not n:
            print(f"no {what}" + (f"; {empty}" if empty else ""), file=sys.stderr)
    if n < count:
        print(f"showed {n} of {count} {what}; --limit 0 shows all", file=sys.stderr)


def _cell(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        import datetime

        return datetime.datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def created(kind: str, record: dict[str, Any], label: str, as_json: bool) -> None:
    """Say what was created (``created project 3 'cars'``), or print it as JSON."""
    if as_json:
        print(json.dumps(record, indent=2, default=str))
    else:
        print(f"created {kind} {record['id']} {label}")
