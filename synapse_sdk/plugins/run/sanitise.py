"""Make each event storable on its own, so that one bad value never fails the batch it travels in.

Rules, applied to every event before a batch is written (in the flusher thread, not the action's):

- **Text** (messages, event, category and metric names, strings inside data): a lone surrogate
  (a file name that was not UTF-8) becomes U+FFFD; text over ``MAX_TEXT`` characters is cut,
  ending in ``…[truncated N chars]``.
- **Numbers** inside data: NaN and infinities become null (JSON has no such numbers; the CLI
  prints them as null too); other numbers (numpy's, ``Decimal``) become Python ints or floats.
- **Data** (``run.log``): mapping keys become text; tuples and sets lists; anything else that is
  not JSON (a Path, a datetime, an object) its ``str()``. Past ``MAX_DATA`` characters, the
  rest of a list or mapping is replaced by one ``…[truncated N items]`` marker; below
  ``MAX_DEPTH`` levels of nesting (or in a structure that contains itself) a value is its text.
"""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal
from typing import Any

#: Longest text kept in one string of an event (characters).
MAX_TEXT = 100_000
#: Rough size (characters of JSON) of one event's data kept before the rest is cut.
MAX_DATA = 1_000_000
#: Deepest nesting of lists and mappings kept as such.
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str, max_text: int | None = MAX_TEXT) -> str:
    """``text`` storable as UTF-8 and at most ``max_text`` characters (plus the marker)."""
    if not text.isascii():
        text = _SURROGATE.sub("\ufffd", text)
    if max_text is not None and len(text) > max_text:
        text = f"{text[:max_text]}…[truncated {len(text) - max_text} chars]"
    return text


def is_plain(text: str) -> bool:
    """True when ``text`` needs neither cleaning nor URL masking (the common case, checked cheaply)."""
    return text.isascii() and len(text) <= MAX_TEXT and "://" not in text


def clean_data(value: Any) -> Any:
    """A JSON-storable copy of an event's ``value`` (see the module's rules)."""
    return _Cleaner(MAX_DATA, MAX_TEXT).clean(value)


def clean_result(value: Any) -> Any:
    """A storable copy of a run's result: like ``clean_data`` but never cut (the result is the
    run's product, not telemetry)."""
    return _Cleaner(math.inf, None).clean(value)


class _Cleaner:
    """One walk over a value, spending a character budget so that huge data is cut, not stored."""

    def __init__(self, budget: float, max_text: int | None) -> None:
        self.budget = budget
        self.max_text = max_text
        self.depth = 0

    def clean(self, value: Any) -> Any:
        kind = type(value)
        if kind is str:
            self.budget -= len(value) + 2
            return clean_text(value, self.max_text)
        if kind is bool or value is None:
            self.budget -= 5
            return value
        if kind is int:
            self.budget -= 8
            return value
        if kind is float:
            self.budget -= 8
            return value if math.isfinite(value) else None
        if isinstance(value, dict | list | tuple | set | frozenset):
            if self.depth >= MAX_DEPTH:
                return self.clean(repr(value))  # repr() shows a structure that holds itself as [...]
            self.depth += 1
            try:
                return self._mapping(value) if isinstance(value, dict) else self._items(value)
            finally:
                self.depth -= 1
        if isinstance(value, numbers.Integral):
            return self.clean(int(value))
        if isinstance(value, numbers.Real | Decimal):
            return self.clean(float(value))
        return self.clean(str(value))

    def _mapping(self, value: dict[Any, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for index, (key, item) in enumerate(value.items()):
            if self.budget <= 0:
                out["…"] = f"[truncated {len(value) - index} items]"
                break
            name = clean_text(key if type(key) is str else str(key), self.max_text)
            self.budget -= len(name) + 4
            out[name] = self.clean(item)
        return out

    def _items(self, value: list[Any] | tuple[Any, ...] | set[Any] | frozenset[Any]) -> list[Any]:
        out: list[Any] = []
        for index, item in enumerate(value):
            if self.budget <= 0:
                out.append(f"…[truncated {len(value) - index} items]")
                break
            self.budget -= 2
            out.append(self.clean(item))
        return out
