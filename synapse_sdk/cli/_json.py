"""The one way the CLI prints JSON: strict JSON that any parser reads, NaN and Infinity as null."""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float (in nested dicts, lists, tuples) replaced by None.

    Python's ``json`` writes them as ``NaN``/``Infinity``, which is not JSON: ``jq`` and most
    parsers refuse the whole document. None (``null``) is what JavaScript's ``JSON.stringify`` does.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {
            (None if isinstance(k, float) and not math.isfinite(k) else k): finite(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def dumps(value: Any, *, indent: int | None = None) -> str:
    """``value`` as strict JSON (``allow_nan=False`` after ``finite``); other objects as ``str()``."""
    return json.dumps(finite(value), indent=indent, default=str, allow_nan=False)
