"""The typer application behind ``synapse``: every command group, its options and its help."""

from __future__ import annotations

import typer

from synapse_sdk.cli import backend, create, data, env, job, plugin, publish  # noqa: F401 - create, publish add plugin commands

app = typer.Typer(
    name="synapse",
    help="Write, package, publish, run and watch Synapse plugins.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(plugin.app, name="plugin")
app.add_typer(job.app, name="job")
app.add_typer(backend.app, name="backend")
app.add_typer(env.app, name="env")
app.add_typer(data.app, name="data")


def run_typer(args: list[str]) -> int:
    """Parse ``args`` with typer and run the command; click's own errors become exit codes."""
    import click

    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="synapse", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        raise KeyboardInterrupt from None
    return result if isinstance(result, int) else 0
