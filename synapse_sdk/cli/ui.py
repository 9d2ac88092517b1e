"""``synapse ui``: the dashboard over this machine's embedded store, on 127.0.0.1 with a fresh token."""

from __future__ import annotations

import typer


def ui(
    port: int = typer.Option(0, "--port", min=0, max=65535, help="TCP port on 127.0.0.1 (0: any free one)."),
    open_browser: bool = typer.Option(False, "--open", help="Also open the URL in the default browser."),
) -> None:
    """Open the dashboard of the runs and platform under SYNAPSE_HOME; prints the URL to visit."""
    import secrets
    import socket
    import sys

    import uvicorn

    from synapse_sdk.backend.server.app import create_app
    from synapse_sdk.errors import UsageError
    from synapse_sdk.settings import Settings

    settings = Settings.from_env()
    token = secrets.token_urlsafe(32)  # fresh each time: the link printed below is the only way in
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"--port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror}); "
                         "choose another port, or 0 for any free one") from None  # fmt: skip
    sock.listen(128)  # connections made before uvicorn starts wait in the backlog
    bound = sock.getsockname()[1]
    url = f"http://127.0.0.1:{bound}/login?token={token}"
    application = create_app(settings, token=token)
    print(url, flush=True)
    print(f"synapse ui: the dashboard of {settings.home} at http://127.0.0.1:{bound}/ "
          "(open the link above; Ctrl-C stops)", file=sys.stderr, flush=True)  # fmt: skip
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    config = uvicorn.Config(application, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
