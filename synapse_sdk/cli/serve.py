"""``synapse plugin run serve``: the development REST server for a plugin's restapi actions."""

from __future__ import annotations

from pathlib import Path

#: The pseudo-action name that starts the development server instead of running an action.
SERVE = "serve"


def serve_plugin(
    *, path: Path | None, plugin: str | None, host: str, port: int, envs: dict[str, str], debug: bool,
    job_id: str | None = None, params: str | None = None,
) -> None:  # fmt: skip
    """Find the plugin, then serve its restapi actions in this process until Ctrl-C."""
    from synapse_sdk.errors import UsageError
    from synapse_sdk.execution.runner import resolve_plugin_dir

    if job_id:
        raise UsageError("--job-id: 'serve' runs in the foreground until Ctrl-C; drop --job-id")
    if params:
        raise UsageError(
            f"PARAMS_JSON {params!r}: 'serve' takes no params; each request brings its own JSON body"
        )
    from synapse_sdk.execution.serving.local import serve
    from synapse_sdk.plugins.config import PluginConfig
    from synapse_sdk.settings import Settings

    folder = resolve_plugin_dir(path, plugin)
    config = PluginConfig.load(folder)
    serve(folder, config, Settings.from_env(), host=host, port=port, envs=envs, debug=debug)


def deploy_on_ray(
    *, path: Path | None, plugin: str | None, host: str, port: int, envs: dict[str, str], address: str,
    num_cpus: float | None = None, num_gpus: float | None = None,
) -> None:  # fmt: skip
    """Deploy the plugin's restapi actions as a Ray Serve app and print where it answers."""
    import sys

    from synapse_sdk.cli._json import dumps
    from synapse_sdk.execution.runner import resolve_plugin_dir
    from synapse_sdk.execution.serving.ray_serve import deploy
    from synapse_sdk.plugins.config import PluginConfig
    from synapse_sdk.settings import Settings

    folder = resolve_plugin_dir(path, plugin)
    config = PluginConfig.load(folder)
    info = deploy(folder, config, Settings.from_env(), address, host=host, port=port, envs=envs,
                  num_cpus=num_cpus, num_gpus=num_gpus)  # fmt: skip
    print(dumps(info, indent=2))
    print(
        f"deployed {config.uri} on Ray Serve at {info['url']} (docs: {info['docs']}); "
        f"serving run {info['run_id']}: see 'synapse job get {info['run_id']}', "
        f"stop with 'synapse job stop {info['run_id']}'",
        file=sys.stderr,
    )
