"""What ``synapse data`` works on: the configured platform's client, and records named by id or name."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient


def platform_client() -> BackendClient:
    """The client of the platform ``SYNAPSE_HOST`` names, else the embedded one."""
    from synapse_sdk.clients.backend import get_backend_client

    return get_backend_client()


def resolve(client: BackendClient, kind: str, value: str, option: str) -> int:
    """The id of a project or data collection given by id or by name; exit 2 naming the option.

    Digits are an id first, then a name (a project may be titled ``2024``).
    """
    from synapse_sdk.errors import ResourceNotFound, UsageError, did_you_mean

    project = kind == "project"
    listing, key = (client.list_projects, "title") if project else (client.list_data_collections, "name")
    command = f"synapse data {'projects' if project else 'collections'} list"
    if value.isdigit():
        try:
            return int((client.get_project if project else client.get_data_collection)(int(value))["id"])
        except ResourceNotFound:
            pass
    found = next(iter(listing({key: value}, list_all=True)[0]), None)
    if found is not None:
        return int(found["id"])
    if value.isdigit():
        raise UsageError(f"{option} {value}: no {kind} has id {value}; list them with '{command}'")
    names = [r[key] for r in listing(None, list_all=True)[0]]
    raise UsageError(
        f"{option} {value!r}: no {kind} is named {value!r}{did_you_mean(value, names)}; "
        f"list them with '{command}'"
    )
