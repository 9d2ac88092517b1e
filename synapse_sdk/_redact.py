"""Masks secret-looking keys and values before anything is stored or logged.

What counts as a secret:

- **Secret keys.** A key (or environment-variable name) is split into words (``apiKey``,
  ``API_KEY`` and ``api-key`` are all ``api key``). It is secret when any word is one of
  ``password passwd passphrase pwd secret credential(s) creds auth authorization cookie(s)``
  or ends in ``password``, ``passwd`` or ``secret`` (``dbpassword``); when its *last* word is
  ``key pin session private`` or ends in ``token`` (``hf_token``, ``accessToken``); or when it
  ends in ``session id`` or ``pin code``. Not secret: ``pin_memory``, ``key_path``,
  ``eos_token_id``, ``tokenizer``, ``max_tokens``, ``monkey``, ``keyboard_layout``, ``author``;
  a last ``key``/``token`` after a harmless qualifier (``sort_key``, ``object_key``,
  ``pad_token``...); and the shell's ``PWD``/``OLDPWD``.
- **Secret values.** Everything under a secret key, at any depth (lists and mappings included):
  strings and numbers (and each part of 8 characters or more of a text of several words or lines,
  like the token of ``Bearer <token>``); booleans and None say whether, not what, and are kept.
  Plus the password of every URL with credentials (``postgres://u:pw@h/db``) in any value.

How a text is masked (:class:`Masker`): a secret of 4 characters or more is replaced wherever
it occurs; a shorter one (a 1-digit pin) only where it stands alone, between whitespace,
quotes, brackets, ``= : , ; & |``, a sentence's full stop or the text's ends (so ``epoch 1/10``
keeps its ``1``); and ``scheme://user:pass@host`` becomes ``scheme://user:***@host`` in any
text, known secret or not. In JSON-like values every string (and mapping key) is masked so, and
a number equal to a secret of 4 digits or more becomes ``***`` (a number of 1-3 digits is far
more often an epoch or a count than a pin: it is kept).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

MASK = "***"
#: Levels of nesting walked; deeper structures (or one that holds itself) are shown as ``***``.
MAX_DEPTH = 100

_ANY_WORD = frozenset({
    "password", "passwords", "passwd", "passphrase", "pwd", "secret", "secrets", "credential",
    "credentials", "creds", "auth", "authorization", "cookie", "cookies", "apikey", "privatekey",
    "accesskey", "secretkey", "sessionid",
})  # fmt: skip
_LAST_WORD = frozenset({"token", "key", "keys", "pin", "session", "private"})
_WORD_ENDINGS = ("password", "passwd", "secret", "passphrase")
#: A last ``key`` or ``token`` after one of these names a lookup or a vocabulary entry, not a secret.
_HARMLESS_QUALIFIERS = frozenset({
    "sort", "primary", "foreign", "partition", "group", "cache", "label", "object", "s3", "bucket",
    "lookup", "dict", "hot", "join", "index", "column", "field", "map", "pad", "eos", "bos", "unk",
    "sep", "cls", "mask", "special", "start", "end", "max", "min", "num", "total",
})  # fmt: skip
_NOT_SECRET = frozenset({"PWD", "OLDPWD"})  # the shell's working directories
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
#: ``scheme://user:password@``: group 1 is kept, group 2 (the password) masked.
_URL_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:]*:)([^\s/@]+)@")
_EDGE = r"\s\"'=:,;()\[\]{}<>&|"


@lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """True when a key or environment-variable name looks like it holds a secret."""
    if key in _NOT_SECRET:
        return False
    words = [w.lower() for w in _WORDS.findall(key)]  # cached: the same few keys come back every run
    if not words:
        return False
    if any(w in _ANY_WORD or w.endswith(_WORD_ENDINGS) for w in words):
        return True
    last = words[-1]
    if last in _LAST_WORD or last.endswith("token"):
        return not (len(words) > 1 and words[-2] in _HARMLESS_QUALIFIERS)
    return len(words) > 1 and (words[-2], words[-1]) in {("session", "id"), ("pin", "code")}


def mask_urls(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` replaced by ``***``."""
    if "://" not in text or "@" not in text:
        return text
    return _URL_CREDENTIALS.sub(rf"\1{MASK}@", text)


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with the values of secret keys masked at any depth (tuples become
    lists) and URL passwords masked in every string; below ``MAX_DEPTH`` levels, ``***``."""
    if isinstance(value, dict | list | tuple) and _depth >= MAX_DEPTH:
        return MASK  # nothing real nests this deep; a structure that holds itself would never end
    if isinstance(value, dict):
        return {
            k: (MASK if isinstance(k, str) and is_secret_key(k) and _is_secret(v) else redact(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, _depth + 1) for v in value]
    if isinstance(value, str):
        return mask_urls(value)
    return value


def _is_secret(value: Any) -> bool:
    """Whether a value under a secret key is one to hide (not None, a boolean or blank text)."""
    if value is None or isinstance(value, bool):
        return False
    return bool(value.strip()) if isinstance(value, str) else value not in ({}, [], ())


def secret_values(*mappings: dict[str, Any] | None) -> list[str]:
    """Every value ``redact`` hides in ``mappings``, as text, plus URL passwords; longest first.

    A secret of several words or lines (``Bearer <token>``, a PEM key) also gives each of its
    parts of 8 characters or more, which may be printed alone.
    """
    found: set[str] = set()
    for mapping in mappings:
        if mapping:
            _collect(mapping, found, under_secret=False, depth=0)
    return sorted(found, key=_longest_first) if found else []


def _longest_first(secret: str) -> tuple[int, str]:
    return -len(secret), secret


def _collect(value: Any, found: set[str], under_secret: bool, depth: int) -> None:
    if depth >= MAX_DEPTH:
        return  # what lies deeper is shown as *** by redact() and Masker.value()
    if isinstance(value, dict):
        for k, v in value.items():
            _collect(v, found, under_secret or (isinstance(k, str) and is_secret_key(k)), depth + 1)
    elif isinstance(value, list | tuple):
        for v in value:
            _collect(v, found, under_secret, depth + 1)
    elif isinstance(value, str):
        if under_secret and value.strip():
            found.add(value)
            parts = value.split()
            if len(parts) > 1:  # "Bearer <token>", a PEM key: each long part is a secret by itself
                found.update(part for part in parts if len(part) >= 8)
        if "://" in value:
            found.update(m.group(2) for m in _URL_CREDENTIALS.finditer(value))
    elif under_secret and isinstance(value, int | float) and not isinstance(value, bool):
        found.add(str(value))


class Masker:
    """Masks a set of secret values (and URL passwords) in texts and JSON-like values."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        unique = sorted({s for s in secrets if s and s.strip()}, key=_longest_first)
        self.secrets = unique
        self._long = [s for s in unique if len(s) >= 4]
        short = [s for s in unique if len(s) < 4]
        self._short = (
            re.compile(rf"(?<![^{_EDGE}])(?:{'|'.join(map(re.escape, short))})(?=$|[{_EDGE}]|\.(?:\s|$))")
            if short
            else None
        )
        self._numbers = frozenset(self._long)  # 1-3 digit numbers are counts far more often than pins

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def text(self, text: str) -> str:
        """``text`` with every secret and URL password replaced by ``***``."""
        for secret in self._long:
            if secret in text:
                text = text.replace(secret, MASK)
        if self._short is not None:
            text = self._short.sub(MASK, text)
        return mask_urls(text)

    def value(self, value: Any, _depth: int = 0) -> Any:
        """A copy of a JSON-like ``value`` with its strings and keys masked and numbers equal to a
        secret of 4 characters or more replaced by ``***`` (tuples become lists; below
        ``MAX_DEPTH`` levels, ``***``)."""
        kind = type(value)
        if kind is str:
            return self.text(value)
        if (kind is dict or kind is list or kind is tuple) and _depth >= MAX_DEPTH:
            return MASK
        if kind is dict:
            return {
                (self.text(k) if type(k) is str else k): self.value(v, _depth + 1) for k, v in value.items()
            }
        if kind is list or kind is tuple:
            return [self.value(v, _depth + 1) for v in value]
        if (kind is int or kind is float) and self._numbers and str(value) in self._numbers:
            return MASK
        return value


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret value and URL password in ``text`` (see :class:`Masker`)."""
    return Masker(secrets).text(text)
