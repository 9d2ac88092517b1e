"""``synapse plugin run serve``: the development REST server for a plugin's restapi actions."""

from __future__ import annotations

from pathlib import Path

#: The pseudo-action name that starts the development server instead of running an action.
SERVE = "serve"


def serve_plugin(
    *, path: Path | None, plugin: str | None, host: str, port: int, envs: dict[str, str], debug: bool
) -> None:
    """Find the plugin, then serve its restapi actions in this process until Ctrl-C."""
    from synapse_sdk.execution.runner import resolve_plugin_dir
    from synapse_sdk.execution.serve import serve
    from synapse_sdk.plugins.config import PluginConfig
    from synapse_sdk.settings import Settings

    folder = resolve_plugin_dir(path, plugin)
    config = PluginConfig.load(folder)
    serve(folder, config, Settings.from_env(), host=host, port=port, envs=envs, debug=debug)
