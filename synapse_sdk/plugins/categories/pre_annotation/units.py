"""Data units as both pre-annotation actions see them: the checked collection, its image
specification, a unit's metadata written back, and the metadata filter ``to_task`` selects by.

A filter is ``{"pre_annotation.status": "kept", "camera": ["a", "b"]}``: each key a dotted path
into the unit's ``meta``, each value the one it must have (a list: any of them); ``{"meta":
{...}}`` is the same filter written the platform's way. It is matched here, on the client, so it
works on any platform.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import ParamsError, ResourceNotFound, did_you_mean

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient

#: Not in a unit's meta (distinct from a None value there).
MISSING: Final = object()


def get_collection(
    client: BackendClient, collection_id: int, param: str = "data_collection"
) -> dict[str, Any]:
    """The data collection, or a ``ParamsError`` naming ``param``."""
    try:
        return client.get_data_collection(collection_id)
    except ResourceNotFound:
        raise ParamsError(
            f"params.{param}: there is no data collection {collection_id}; give a data collection id "
            "(`synapse data collections list` shows them)"
        ) from None


def image_spec(collection: Mapping[str, Any], name: str | None) -> str:
    """The specification whose files are checked: ``name``, else the primary one; it must be of images."""
    specs = {spec["name"]: spec for spec in collection.get("file_specifications") or []}
    if not specs:
        raise ParamsError(
            f"params.data_collection: collection {collection['id']} has no file specifications; "
            "give it an image specification, like [{'name': 'image', 'file_type': 'image'}]"
        )
    if name is None:
        name = next((n for n, s in specs.items() if s.get("is_primary")), next(iter(specs)))
    elif name not in specs:
        raise ParamsError(
            f"params.spec: {name!r} is not a file specification of collection {collection['id']}"
            f"{did_you_mean(name, list(specs))}; it has {', '.join(specs)}"
        )
    if specs[name].get("file_type") != "image":
        raise ParamsError(
            f"params.spec: {name!r} holds {specs[name].get('file_type')} files, not images; "
            "give the name of an image specification"
        )
    return name


def update_unit(
    client: BackendClient, unit_id: int, meta: Mapping[str, Any], files: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Replace a data unit's ``meta`` (the platform writes nothing when it is unchanged), and its
    ``files`` too when given (a fixed image in place of its original, which ``meta`` keeps)."""
    fields: dict[str, Any] = {"meta": dict(meta)}
    if files is not None:
        fields["files"] = dict(files)
    return client.update_data_unit(unit_id, fields)


def normalized_filter(given: Mapping[str, Any] | None) -> dict[str, Any]:
    """A filter as dotted meta paths: ``{"meta": {"a.b": 1}}`` and ``{"a": {"b": 1}}`` give ``{"a.b": 1}``."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            flat[prefix] = value

    given = dict(given or {})
    inner = given.pop("meta", None)
    if isinstance(inner, Mapping):
        walk("", inner)
    elif inner is not None:
        raise ParamsError(
            f"params.meta_filter.meta: expected an object like {{'camera': 'a'}}, got {inner!r}"
        )
    walk("", given)
    return {key: value for key, value in flat.items() if key}


def meta_value(meta: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of ``meta`` (a key with dots in it is found too), or :data:`MISSING`."""
    if path in meta:
        return meta[path]
    head, _, rest = path.partition(".")
    inner = meta.get(head, MISSING)
    if not rest or not isinstance(inner, Mapping):
        return inner if not rest else MISSING
    return meta_value(inner, rest)


def matches(meta: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether ``meta`` has every value of the (normalized) filter ``wanted``."""
    for path, expected in wanted.items():
        value = meta_value(meta, path)
        if isinstance(expected, list):
            if value not in expected:
                return False
        elif value != expected:
            return False
    return True


def matcher(wanted: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """:func:`matches` for one (normalized) filter, each path split once rather than per unit."""
    items = [(path, tuple(path.split(".")), expected) for path, expected in wanted.items()]

    def check(meta: Mapping[str, Any]) -> bool:
        for path, parts, expected in items:
            if path in meta:
                value = meta[path]
            else:
                value = meta
                for part in parts:
                    value = value.get(part, MISSING) if isinstance(value, dict) else MISSING
            if not (value in expected if isinstance(expected, list) else value == expected):
                return False
        return True

    return check
