"""The platform plugins report to: the embedded SQLite store by default, HTTP with ``SYNAPSE_HOST``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synapse_sdk.backend.client import HttpBackend
    from synapse_sdk.backend.store.runs import RunStore
    from synapse_sdk.settings import Settings

_stores: dict[str, RunStore | HttpBackend] = {}
#: The same, by the settings that named them (the settings of one environment are one object).
_by_settings: dict[Settings, RunStore | HttpBackend] = {}


def get_backend(settings: Settings | None = None) -> RunStore:
    """Return the run backend for ``settings`` (default: the environment), one per store or server.

    With ``SYNAPSE_HOST`` set it is an :class:`~synapse_sdk.backend.client.HttpBackend` (same
    methods as the store, over HTTP with ``SYNAPSE_ACCESS_TOKEN``); otherwise the SQLite store.
    """
    from synapse_sdk.settings import Settings

    settings = settings or Settings.from_env()
    found = _by_settings.get(settings)
    if found is not None:
        return found  # type: ignore[return-value]
    _by_settings[settings] = found = _backend_for(settings)
    return found  # type: ignore[return-value]


def _backend_for(settings: Settings) -> RunStore | HttpBackend:
    if settings.host:
        key = f"{settings.host}|{settings.access_token}"
        if key not in _stores:
            from synapse_sdk.backend.client import HttpBackend

            _stores[key] = HttpBackend(settings.host, settings.access_token)
        return _stores[key]  # type: ignore[return-value]  # HttpBackend has RunStore's methods
    from synapse_sdk.backend.store.runs import RunStore

    key = str(settings.db_path)
    store = _stores.get(key)
    if store is None:
        store = _stores[key] = RunStore(settings.db_path)
    return store  # type: ignore[return-value]
