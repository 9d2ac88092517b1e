"""The platform's client fixtures: one contract, run against the embedded store and over HTTP."""

from __future__ import annotations

import pytest

from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.clients.backend import BackendClient
from tests.servers import BackendServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A real ``synapse backend serve`` on 127.0.0.1 for the module's HTTP cases."""
    server = BackendServer(tmp_path_factory.mktemp("platform") / "home").start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "http"])
def client(request, tmp_path):  # type: ignore[no-untyped-def]
    """The same test, run against the embedded platform and against the HTTP server."""
    if request.param == "embedded":
        found = BackendClient(backend=EmbeddedBackend(tmp_path / "home" / "synapse.db"))
    else:
        server = request.getfixturevalue("server")
        found = BackendClient(server.url, access_token=server.token)
    yield found
    found.backend.close()


@pytest.fixture
def stored(client, request):  # type: ignore[no-untyped-def]
    """The database behind ``client``, read directly (the server's file, for ``http``)."""
    if isinstance(client.backend, EmbeddedBackend):
        yield client.backend
        return
    with EmbeddedBackend(request.getfixturevalue("server").home / "synapse.db") as backend:
        yield backend
