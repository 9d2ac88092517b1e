"""The ``synapse`` command: a thin typer shell over the library.

Every ``SynapseError`` becomes ``Error: <message>`` and its exit code (2 for bad input, 1 for a
failed action); ``SYNAPSE_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys

import typer

from synapse_sdk.cli import backend, create, env, job, plugin, publish  # noqa: F401 - create, publish add plugin commands

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


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    import click

    from synapse_sdk.errors import SynapseError

    command = typer.main.get_command(app)
    debug = os.environ.get("SYNAPSE_DEBUG", "") not in ("", "0", "false")
    try:
        result = command.main(args=argv, prog_name="synapse", standalone_mode=False)
    except SynapseError as exc:
        if debug:
            raise
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"Error: {line}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        print("Aborted.", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        print(
            f"Error: internal error: {type(exc).__name__}: {exc} "
            "(run again with SYNAPSE_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
