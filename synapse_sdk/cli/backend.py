"""``synapse backend serve``: the embedded backend (runs, releases) over HTTP for other machines."""

from __future__ import annotations

import sys

import typer

app = typer.Typer(help="Serve the backend over HTTP (token required).", no_args_is_help=True)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; 0.0.0.0 exposes it."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    token: str = typer.Option(
        None, "--token", help="Access token (default: SYNAPSE_ACCESS_TOKEN).", show_default=False
    ),
) -> None:
    """Serve runs (logs, progress, metrics, results) and releases at http://HOST:PORT (Ctrl-C stops)."""
    import uvicorn

    from synapse_sdk.backend.server.app import create_app
    from synapse_sdk.settings import Settings

    settings = Settings.from_env()
    application = create_app(settings, token=token)
    print(
        f"synapse backend: serving {settings.db_path} at http://{host}:{port} "
        f"(token required; workers set SYNAPSE_HOST and SYNAPSE_ACCESS_TOKEN; dashboard: http://{host}:{port}/)",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
