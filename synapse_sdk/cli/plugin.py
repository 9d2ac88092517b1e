"""``synapse plugin``: run and check plugins."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from synapse_sdk.cli.run_command import DEFAULT_HOST, DEFAULT_PORT, run_plugin_action

app = typer.Typer(help="Create, check, run and publish plugins.", no_args_is_help=True)


@app.command()
def run(
    action: str = typer.Argument(..., help="The action to run, as named in config.yaml."),
    params: str = typer.Argument(None, help="The action's params as a JSON object."),
    plugin: str = typer.Option(None, "--plugin", help="Run plugin CODE or CODE@VERSION."),
    debug: bool = typer.Option(False, "--debug", help="Run the local code in this process."),
    job_id: str = typer.Option(None, "--job-id", help="Submit as a background job with this id."),
    path: Path = typer.Option(None, "--path", help="The plugin folder (default: current)."),
    env: list[str] = typer.Option(None, "--env", help="KEY=VALUE passed to the action."),
    host: str = typer.Option(DEFAULT_HOST, "--host", help="'serve' only: interface to bind."),
    port: int = typer.Option(DEFAULT_PORT, "--port", min=1, max=65535, help="'serve' only: TCP port."),
    ray_address: str = typer.Option(
        None, "--ray-address", envvar="SYNAPSE_RAY_ADDRESS", help="Run on the Ray cluster at this address."
    ),
    num_cpus: float = typer.Option(None, "--num-cpus", min=0, help="Ray: CPUs per run or replica."),
    num_gpus: float = typer.Option(None, "--num-gpus", min=0, help="Ray: GPUs per run or replica."),
) -> None:
    """Run ACTION of a plugin with PARAMS (JSON) and print its result as JSON.

    ACTION 'serve' starts the development REST server for the plugin's restapi actions.
    """
    run_plugin_action(
        action, params, plugin=plugin, debug=debug, job_id=job_id, path=path, env=env, host=host, port=port,
        ray_address=ray_address, num_cpus=num_cpus, num_gpus=num_gpus,
    )  # fmt: skip


@app.command()
def check(
    path: Path = typer.Option(None, "--path", help="The plugin folder (default: current)."),
) -> None:
    """Validate config.yaml and import every entrypoint, reporting all problems at once.

    If config.yaml is valid, each action whose entrypoint loads gets an ``ok`` line on stdout.
    Every problem, from the config or an entrypoint, gets one ``Error:`` line on stderr, and the
    exit code is then 2.
    """
    from synapse_sdk.errors import ConfigError
    from synapse_sdk.plugins.loader import check_plugin

    check = check_plugin(path)
    if check.config is not None:
        for name, cls in check.actions.items():
            method = check.config.actions[name].method
            print(f"ok  {name:<16} {method:<8} {cls.__module__}.{cls.__qualname__}")
    if check.config is None or check.problems:
        raise ConfigError("\n".join(check.problems), check.problems)
    print(f"{check.config.uri}: {len(check.actions)} action(s) ok", file=sys.stderr)
