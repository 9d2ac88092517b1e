"""The checks of platform inputs beyond their schema, run by :meth:`ResourceSpec.validate_many`.

Each takes the validated rows and how messages name them (``tasks[3]``), may complete the rows
(a storage's configuration normalised, a data unit's identity, the primary file specification),
and raises ``UsageError`` naming the item and the field. ``keep_secrets`` and ``public_storage``
are the storages' update and display hooks. None of them reads the database: rules across
tables live in the store (``store/rules.py``).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, TypeAdapter, ValidationError

from synapse_sdk.backend.spec import ItemName, first_error, item_namer
from synapse_sdk.errors import UsageError


@functools.cache
def _annotation_list() -> TypeAdapter[list[Any]]:
    """Validates many annotations in one pass, dropping each model as soon as it is checked."""
    from synapse_sdk.formats.dm import AnnotationData

    checked = Annotated[AnnotationData, AfterValidator(lambda _: None)]
    return TypeAdapter(list[checked])


def check_annotations(rows: list[dict[str, Any]], name: ItemName) -> None:
    """``data`` is a DM v2 annotation (``docs/annotation-format.md``), every row's in one pass."""
    found = [(index, row["data"]) for index, row in enumerate(rows) if row.get("data") is not None]
    if not found:
        return
    try:
        _annotation_list().validate_python([data for _, data in found])
    except ValidationError as exc:
        from synapse_sdk.formats.dm import validate_annotation

        index, data = found[exc.errors(include_url=False)[0]["loc"][0]]  # type: ignore[index]  # a list position
        validate_annotation(data, where=f"{name(index)}.data")  # raises, naming the item and the field
        raise UsageError(f"{name(index)}.data: {first_error(exc, 'data')}") from None


def check_predictions(rows: list[dict[str, Any]], name: ItemName) -> None:
    """Each prediction's ``data`` is DM v2, and its ``scores`` name annotations it has."""
    for index, row in enumerate(rows):
        predictions = row.get("predictions") or []
        if not predictions:
            continue
        where = f"{name(index)}.predictions"
        check_annotations([{"data": p["data"]} for p in predictions], item_namer(where, indexed=True))
        for number, prediction in enumerate(predictions):
            scores = prediction.get("scores") or {}
            ids = {
                item.get("id")
                for image in prediction["data"].get("images") or []
                for items in image.values()
                if isinstance(items, list)
                for item in items
                if isinstance(item, dict)
            }
            unknown = sorted(set(scores) - ids)
            if unknown:
                raise UsageError(
                    f"{where}[{number}].scores: {unknown[0]!r} is no annotation id of its data; "
                    "give a score per annotation id"
                )


def check_file_specifications(rows: list[dict[str, Any]], name: ItemName) -> None:
    """File specifications have unique names, and one of them is primary (the first, unless told)."""
    for index, row in enumerate(rows):
        specs = row.get("file_specifications")
        if not specs:
            continue
        names = [s["name"] for s in specs]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise UsageError(
                f"{name(index)}.file_specifications: {duplicate!r} is named twice; names must be unique"
            )
        primaries = [s["name"] for s in specs if s.get("is_primary")]
        if len(primaries) > 1:
            raise UsageError(
                f"{name(index)}.file_specifications: {', '.join(primaries)} are all primary; "
                "mark exactly one is_primary"
            )
        if not primaries:
            specs[0]["is_primary"] = True


def check_storage_configuration(rows: list[dict[str, Any]], name: ItemName) -> None:
    """A storage's configuration is its provider's (``synapse_sdk.storage.config``)."""
    from synapse_sdk.errors import ConfigError
    from synapse_sdk.storage.config import parse_config

    for index, row in enumerate(rows):
        if "configuration" not in row or "provider" not in row:
            continue
        where = f"{name(index)}.configuration"
        try:
            config = parse_config({**row["configuration"], "provider": row["provider"]}, where)
        except ConfigError as exc:
            raise UsageError(str(exc).splitlines()[0]) from None
        row["configuration"] = {k: v for k, v in config.model_dump(mode="json").items() if k != "provider"}


def keep_secrets(current: Mapping[str, Any], changes: dict[str, Any]) -> None:
    """A configuration sent back as read (secrets as ``***``) keeps the secrets it had."""
    from synapse_sdk._redact import MASK
    from synapse_sdk.storage.config import SECRET_FIELDS

    config = changes.get("configuration")
    if config is None:
        return
    stored = current.get("configuration") or {}
    for key in SECRET_FIELDS.get(current.get("provider", ""), ()):
        if config.get(key) == MASK and key in stored:
            config[key] = stored[key]


def public_storage(record: dict[str, Any]) -> dict[str, Any]:
    """A storage as it is shown anywhere: its secret configuration values as ``***``."""
    from synapse_sdk.storage.config import parse_config, public_config

    config = parse_config({**(record.get("configuration") or {}), "provider": record["provider"]})
    shown = {k: v for k, v in public_config(config).items() if k != "provider"}
    return {**record, "configuration": shown}


def unit_checksum(files: Mapping[str, Mapping[str, Any]]) -> str | None:
    """A data unit's identity: the sha256 of its files' names and checksums (None without files)."""
    if not files:
        return None
    sums = sorted(f"{name}:{entry['checksum']}" for name, entry in files.items())
    return hashlib.sha256("|".join(sums).encode()).hexdigest()


def fill_unit_checksum(rows: list[dict[str, Any]], name: ItemName) -> None:
    """A data unit is known by its files' content: an import run twice finds the units it made.

    Files given without their checksum get it (and the unit its identity) from their data file
    when the unit is stored.
    """
    for row in rows:
        files = row.get("files")
        if row.get("checksum") is None and files and all("checksum" in entry for entry in files.values()):
            row["checksum"] = unit_checksum(files)


def check_path(rows: list[dict[str, Any]], name: ItemName) -> None:
    """A data file's path is a key inside its storage."""
    for index, row in enumerate(rows):
        path = row.get("path")
        if path is not None and (path.startswith("/") or ".." in re.split(r"[/\\]", path) or "\x00" in path):
            raise UsageError(
                f"{name(index)}.path: {path!r} leaves its storage; give a key relative to the storage root"
            )
