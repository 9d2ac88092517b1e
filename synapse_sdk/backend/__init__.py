"""The platform plugins report to: the embedded SQLite store by default, HTTP with ``SYNAPSE_HOST``.

:func:`get_backend` is the one factory; what it returns satisfies
:class:`~synapse_sdk.backend.protocol.Backend` (``.runs``, ``.releases``, ``close()``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import Backend
    from synapse_sdk.settings import Settings

__all__ = ["get_backend"]

#: One backend per database file (``db:<path>``) or per server and token (``http:<host>|<token>``).
_backends: dict[str, Backend] = {}
#: The same, by the settings that named them: a repeated call is one dict lookup (the settings
#: of one environment are one object, see ``Settings.from_env``).
_by_settings: dict[Settings, Backend] = {}


def get_backend(settings: Settings | None = None) -> Backend:
    """Return the backend for ``settings`` (default: the environment), one per store or server.

    With ``SYNAPSE_HOST`` set it is an :class:`~synapse_sdk.backend.http.HttpBackend` (with
    ``SYNAPSE_ACCESS_TOKEN``); otherwise the :class:`~synapse_sdk.backend.store.EmbeddedBackend`
    at ``settings.db_path``.
    """
    if settings is None:
        from synapse_sdk.settings import Settings

        settings = Settings.from_env()
    found = _by_settings.get(settings)
    if found is None:
        found = _by_settings[settings] = _backend_for(settings)
    return found


def _backend_for(settings: Settings) -> Backend:
    if settings.host:
        key = f"http:{settings.host}|{settings.access_token}"
        if key not in _backends:
            from synapse_sdk.backend.http import HttpBackend

            _backends[key] = HttpBackend(settings.host, settings.access_token)
        return _backends[key]
    key = f"db:{settings.db_path}"
    if key not in _backends:
        from synapse_sdk.backend.store import EmbeddedBackend

        _backends[key] = EmbeddedBackend(settings.db_path, settings.home / "archives")
    return _backends[key]
