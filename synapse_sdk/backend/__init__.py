"""The platform plugins report to: the embedded SQLite store by default."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synapse_sdk.backend.store.runs import RunStore
    from synapse_sdk.settings import Settings

_stores: dict[str, RunStore] = {}


def get_backend(settings: Settings | None = None) -> RunStore:
    """Return the run backend for ``settings`` (default: the environment), one per store file."""
    from synapse_sdk.backend.store.runs import RunStore
    from synapse_sdk.settings import Settings

    settings = settings or Settings.from_env()
    key = str(settings.db_path)
    store = _stores.get(key)
    if store is None:
        store = _stores[key] = RunStore(settings.db_path)
    return store
