"""Params keys a ``params_model`` does not know: pydantic ignores them by default, we refuse them.

``{"epoch": 3}`` for a model with ``epochs: int = 20`` validates and silently runs 20 epochs; here
it is ``params.epoch: unknown key (did you mean 'epochs'?)``. A model that sets ``extra`` itself
(``"allow"`` or ``"ignore"``) keeps what it chose, and so does one whose ``before``/``wrap`` model
validator reads its raw input; nested models are checked the same way, path by path.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, AliasPath, BaseModel, RootModel, ValidationError

from synapse_sdk.errors import did_you_mean
from synapse_sdk.plugins.config import one_line as escape_line_breaks

#: At most this many unknown keys are named; the rest are counted.
MAX_SHOWN = 10
MAX_LINE_CHARS = 200
MAX_MESSAGE_CHARS = 1000
_MAX_ALLOWED_SHOWN = 20


def unknown_keys(model: type[BaseModel], data: Any, validated: BaseModel | None = None) -> list[str]:
    """One ``params.<path>: unknown key ...`` line per key ``model`` (or a nested model) does not take.

    Without ``validated`` (validation failed) only the top level is checked; with it, every nested
    model instance is matched with the input it came from.
    """
    lines: list[str] = []
    queue: list[tuple[type[BaseModel], Any, BaseModel | None, str]] = [(model, data, validated, "params")]
    while queue:
        cls, raw, instance, where = queue.pop(0)
        if not isinstance(raw, dict) or not _is_checkable(cls):
            continue
        accepted = _accepted_keys(cls)
        if not _allows_extra(cls):
            names = list(cls.model_fields)
            lines.extend(_line(_path(where, key), str(key), names) for key in raw if key not in accepted)
        if instance is None:
            continue
        for key, value in raw.items():
            field = accepted.get(key)
            if field is not None:
                queue.extend(_nested(getattr(instance, field, None), value, _path(where, key)))
    if len(lines) > MAX_SHOWN:
        lines = [*lines[:MAX_SHOWN], f"... and {len(lines) - MAX_SHOWN:,} more unknown key(s)"]
    return lines


def _nested(validated: Any, raw: Any, where: str) -> list[tuple[type[BaseModel], Any, BaseModel | None, str]]:
    """The (model, input, instance, path) pairs below one field: a model, or models in a list or dict."""
    if isinstance(validated, BaseModel):
        return [(type(validated), raw, validated, where)]
    if isinstance(validated, list | tuple) and isinstance(raw, list | tuple) and len(validated) == len(raw):
        return [
            (type(v), r, v, f"{where}[{i}]")
            for i, (v, r) in enumerate(zip(validated, raw, strict=True))
            if isinstance(v, BaseModel)
        ]
    if isinstance(validated, dict) and isinstance(raw, dict):
        return [
            (type(v), raw[k], v, _path(where, k))
            for k, v in validated.items()
            if isinstance(v, BaseModel) and k in raw
        ]
    return []


def without_extra_forbidden(lines: list[str], exc: ValidationError) -> list[str]:
    """``describe_errors`` lines of ``exc`` minus pydantic's own unknown-key ones (``extra="forbid"``).

    Top-level unknown keys are named by ``unknown_keys`` with what is allowed; deeper ones keep a
    plain ``unknown key`` line. Lines that do not pair one-to-one with the errors are kept as they are.
    """
    errors = exc.errors()
    if len(lines) != len(errors):
        return lines
    kept = [line for line, err in zip(lines, errors, strict=True) if err["type"] != "extra_forbidden"]
    deeper = [err["loc"] for err in errors if err["type"] == "extra_forbidden" and len(err["loc"]) > 1]
    return kept + [f"params.{'.'.join(map(str, loc))}: unknown key" for loc in deeper]


def one_line(lines: list[str]) -> str:
    """``lines`` as one line of at most about ``MAX_MESSAGE_CHARS``: each problem clipped to
    ``MAX_LINE_CHARS`` (a huge value's repr stays short), those that do not fit counted, line breaks
    escaped (a key like ``"a\\nb"`` cannot split the message)."""
    shown: list[str] = []
    size = 0
    for line in lines:
        clipped = line if len(line) <= MAX_LINE_CHARS else f"{line[: MAX_LINE_CHARS - 3]}..."
        if shown and size + len(clipped) > MAX_MESSAGE_CHARS:
            break
        shown.append(clipped)
        size += len(clipped) + 2
    if len(shown) < len(lines):
        shown.append(f"... and {len(lines) - len(shown):,} more problem(s)")
    return escape_line_breaks("; ".join(shown))


def _path(where: str, key: Any) -> str:
    """``where.key``, or ``where['odd key']`` for a key that is not plain text; long keys clipped."""
    text = str(key)
    if len(text) > 60:
        text = f"{text[:57]}..."
    return f"{where}.{text}" if text.isprintable() and text.strip() == text and text else f"{where}[{text!r}]"


def _line(where: str, key: str, allowed: list[str]) -> str:
    if not allowed:
        return f"{where}: unknown key; the action takes no params"
    shown = ", ".join(allowed[:_MAX_ALLOWED_SHOWN]) + (", ..." if len(allowed) > _MAX_ALLOWED_SHOWN else "")
    return f"{where}: unknown key{did_you_mean(key, allowed)}; allowed keys: {shown}"


def _is_checkable(cls: type[BaseModel]) -> bool:
    """False for a root model, and for one whose own validator sees the raw input first."""
    if issubclass(cls, RootModel):
        return False
    validators = cls.__pydantic_decorators__.model_validators.values()
    return not any(v.info.mode in ("before", "wrap") for v in validators)


def _allows_extra(cls: type[BaseModel]) -> bool:
    """True if the author set ``extra`` to keep or drop unknown keys (pydantic's default is unset)."""
    return cls.model_config.get("extra") in ("allow", "ignore")


def _accepted_keys(cls: type[BaseModel]) -> dict[Any, str]:
    """Input key -> field name, for every name and alias a field may be given by."""
    accepted: dict[Any, str] = {}
    for name, field in cls.model_fields.items():
        accepted[name] = name
        aliases: list[Any] = [field.alias, field.validation_alias]
        if isinstance(field.validation_alias, AliasChoices):
            aliases.extend(field.validation_alias.choices)
        for alias in aliases:
            if isinstance(alias, AliasPath):
                alias = alias.path[0]
            if isinstance(alias, str):
                accepted[alias] = name
    return accepted
