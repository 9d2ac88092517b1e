"""The development REST server: a plugin's ``restapi`` actions served by uvicorn on this machine.

The whole server is one serving run: RUNNING once every action's ``setup()`` is done, STOPPED
when the server is stopped (Ctrl-C, SIGTERM), FAILED if ``setup()`` or the server fails.
"""

from __future__ import annotations

import signal
import socket
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ExecutionError, UsageError
from synapse_sdk.execution import lifecycle
from synapse_sdk.execution.serving.app import create_serve_app, load_rest_actions, rest_action_classes
from synapse_sdk.execution.serving.stats import RequestStats

if TYPE_CHECKING:
    from synapse_sdk.plugins.config import PluginConfig
    from synapse_sdk.settings import Settings


class _Terminated(Exception):
    """SIGTERM, re-raised by uvicorn after its graceful shutdown."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated()


def check_port_free(host: str, port: int) -> None:
    """``UsageError`` naming ``--port`` when something already listens there."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise UsageError(
                f"--port {port}: cannot listen on {host}:{port} ({exc.strerror}); "
                "choose another port, like --port 8001"
            ) from None


def serve(
    plugin_path: Path, config: PluginConfig, settings: Settings, *, host: str = "127.0.0.1",
    port: int = 8000, envs: dict[str, str] | None = None, debug: bool = False,
    log_every_request_up_to: int | None = 1000,
) -> str:  # fmt: skip
    """Serve the plugin's restapi actions until SIGINT/SIGTERM; return the serving run's id.

    The serving run goes RUNNING when ``setup()`` is done, STOPPED when the server is stopped,
    FAILED if ``setup()`` or the server fails.
    """
    import uvicorn

    from synapse_sdk._redact import secret_values
    from synapse_sdk.backend import get_backend
    from synapse_sdk.backend.schemas import RunStatus
    from synapse_sdk.plugins.run.run import Run
    from synapse_sdk.plugins.run.sinks import BackendSink

    envs = dict(envs or {})
    check_port_free(host, port)
    classes = rest_action_classes(plugin_path, config)  # bad config fails here, before any run exists
    runs = get_backend(settings).runs
    run_id = f"serve-{uuid.uuid4().hex[:12]}"
    folder = settings.runs_dir / run_id
    extra = {"url": f"http://{host}:{port}", "folder": str(folder)}
    record = lifecycle.new_run(run_id, "serve", config, {}, envs, method="restapi", extra=extra)
    lifecycle.create(runs, record)
    run = Run(run_id, [BackendSink(runs)], secrets=secret_values(envs), folder=folder)
    stats = RequestStats(run, max_logs_per_interval=log_every_request_up_to)
    status, error = RunStatus.STOPPED, "server stopped"
    try:
        actions = load_rest_actions(plugin_path, config, run, envs, debug=debug, classes=classes)
        lifecycle.mark_started(
            runs, run_id, extra={**record.extra, "routes": {a.name: a.route for a in actions}}
        )
        run.start_heartbeat()
        app = create_serve_app(
            actions, stats, title=config.name, version=config.version, run_id=run_id, debug=debug
        )
        run.log_message(f"serving {', '.join(a.route for a in actions)} at http://{host}:{port}")
        stats.start()
        print(
            f"serving {config.uri}: {', '.join('POST ' + a.route for a in actions)} at http://{host}:{port} "
            f"(docs: http://{host}:{port}/docs; run {run_id}; Ctrl-C stops)",
            flush=True,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                app, host=host, port=port, log_level="info" if debug else "warning", access_log=debug
            )  # fmt: skip
        )
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
        try:
            server.run()
        finally:
            signal.signal(signal.SIGTERM, previous)
        if not server.started:
            status, error = RunStatus.FAILED, f"the server could not start on {host}:{port}"
    except (KeyboardInterrupt, _Terminated):
        pass
    except SystemExit as exc:  # uvicorn exits when it cannot bind
        status, error = RunStatus.FAILED, f"the server could not start on {host}:{port} (exit {exc.code})"
    except BaseException as exc:
        status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        run.log_message(f"serving failed: {error}", "ERROR")
        raise
    finally:
        stats.close()
        run.log_message(f"{error}: {stats.total} request(s), {stats.errors} error(s)",
                        "INFO" if status is RunStatus.STOPPED else "ERROR")  # fmt: skip
        run.close()
        lifecycle.end(runs, run_id, status, error=error, lost_events=run.lost)
    if status is RunStatus.FAILED:
        raise ExecutionError(f"{error} (run {run_id}; see 'synapse job logs {run_id}')", run_id=run_id)
    return run_id
