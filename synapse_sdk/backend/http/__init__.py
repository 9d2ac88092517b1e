"""The HTTP backend: every resource of a remote ``synapse backend serve`` over one ``HttpTransport``.

Workers on other machines report here with ``SYNAPSE_HOST`` and ``SYNAPSE_ACCESS_TOKEN``; the
resources behave like the embedded store's (one contract suite runs against both). httpx is
imported when an ``HttpBackend`` is made, not with this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synapse_sdk.backend.http.files import HttpFiles
from synapse_sdk.backend.http.releases import HttpReleases
from synapse_sdk.backend.http.resources import HttpResource
from synapse_sdk.backend.http.runs import HttpRuns
from synapse_sdk.backend.http.transport import HttpTransport

if TYPE_CHECKING:
    import httpx

__all__ = [
    "HttpBackend",
    "HttpFiles",
    "HttpReleases",
    "HttpResource",
    "HttpRuns",
    "HttpTransport",
]


class HttpBackend:
    """The :class:`~synapse_sdk.backend.protocol.Backend` of the server at ``host``.

    ``timeout`` is per request, in seconds; a request keeps retrying an unreachable server
    for ``retry_for`` seconds (default ``SYNAPSE_HTTP_RETRY_SECONDS``, else 30); ``transport``
    is an httpx transport to send through (default: the network).
    """

    def __init__(
        self,
        host: str,
        token: str | None,
        *,
        timeout: float = 10.0,
        retry_for: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.transport = HttpTransport(host, token, timeout=timeout, retry_for=retry_for, transport=transport)
        self.runs = HttpRuns(self.transport)
        self.releases = HttpReleases(self.transport)
        self.files = HttpFiles(self.transport)
        from synapse_sdk.backend.resources import RESOURCES

        self._resources = {name: HttpResource(self.transport, spec) for name, spec in RESOURCES.items()}

    def resource(self, name: str) -> HttpResource:
        """The platform resource ``name`` (storages, projects, tasks...)."""
        return self._resources[name]

    def __repr__(self) -> str:
        return f"HttpBackend({self.host!r})"

    @property
    def host(self) -> str:
        """The server's base URL."""
        return self.transport.host

    def close(self) -> None:
        """Close the connection pool."""
        self.transport.close()

    def __enter__(self) -> HttpBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
