"""Finding the records an import made before: by a listing's filters, many values per query."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

from synapse_sdk.errors import ResourceConflict

#: Checksums or ids per listing query (over HTTP they travel in the URL).
LOOKUP: Final = 100


def find(
    listing: Callable[..., Any], filters: Mapping[str, Any], key: str, values: Sequence[Any]
) -> Iterator[dict[str, Any]]:
    """The records whose ``key`` is one of ``values``, a listing query per ``LOOKUP`` of them."""
    for start in range(0, len(values), LOOKUP):
        chunk = list(values[start : start + LOOKUP])
        rows, _ = listing({**filters, key: chunk}, list_all=True)
        yield from rows


def first(found: tuple[Iterable[dict[str, Any]], int]) -> dict[str, Any] | None:
    """The first record of a listing's ``(records, count)``, or None."""
    return next(iter(found[0]), None)


def find_or_create(
    listing: Callable[..., Any], filters: Mapping[str, Any], create: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """The record ``filters`` name, else a new one (or the one another import created meanwhile)."""
    found = first(listing(filters, list_all=True))
    if found is not None:
        return found
    try:
        return create()
    except ResourceConflict:
        found = first(listing(filters, list_all=True))
        if found is None:
            raise
        return found
