"""Masks secret-looking keys and values before anything is stored or logged."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

MASK = "***"
_SECRET_KEY = re.compile(r"token|secret|password|passwd|key|credential|auth", re.IGNORECASE)


@lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """True when a key or environment-variable name looks like it holds a secret."""
    return bool(_SECRET_KEY.search(key))  # cached: the same few keys come back on every run


def redact(value: Any) -> Any:
    """Return a copy of ``value`` with the values of secret-looking keys masked, at any depth."""
    if isinstance(value, dict):
        return {
            k: (MASK if isinstance(k, str) and is_secret_key(k) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def secret_values(*mappings: dict[str, Any] | None) -> list[str]:
    """Collect the string values held under secret-looking keys, longest first."""
    found: set[str] = set()
    for mapping in mappings:
        if mapping:
            _collect_secrets(mapping, found)
    return sorted(found, key=len, reverse=True) if found else []


def _collect_secrets(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and is_secret_key(k) and isinstance(v, str) and len(v) >= 4:
                found.add(v)
            elif isinstance(v, dict | list | tuple):
                _collect_secrets(v, found)
    elif isinstance(value, list | tuple):
        for v in value:
            _collect_secrets(v, found)


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of a known secret value in ``text``."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
