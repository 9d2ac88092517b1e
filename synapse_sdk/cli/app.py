"""The typer application behind ``synapse``: every command group, its options and its help."""

from __future__ import annotations

from typing import Any

import typer

from synapse_sdk.cli import backend, create, data, env, job, plugin, publish, ui  # noqa: F401 - create, publish add plugin commands

app = typer.Typer(
    name="synapse",
    help="Write, package, publish, run and watch Synapse plugins.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
app.add_typer(plugin.app, name="plugin")
app.add_typer(job.app, name="job")
app.add_typer(backend.app, name="backend")
app.add_typer(env.app, name="env")
app.add_typer(data.app, name="data")
app.command("ui")(ui.ui)


def _click() -> Any:
    """The click that typer parses with: vendored as ``typer._click`` by recent typers, the real one
    by older ones; ``except click.ClickException`` alone misses every error of a vendoring typer."""
    vendored = getattr(typer.main, "_click", None)
    if vendored is not None:
        return vendored
    import click

    return click


def run_typer(args: list[str]) -> int:
    """Parse ``args`` with typer and run the command; click's own errors become one line and exit 2.

    A group called without a command (``synapse``, ``synapse job``) prints its help and exits 0,
    like ``--help``. Misuse (unknown option or command, missing or extra argument, a value out of
    range) is ``Error: <what> (see 'synapse ... --help')`` and exit 2, like every bad input.
    """
    from synapse_sdk.errors import UsageError

    click = _click()
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="synapse", standalone_mode=False)
    except typer.Exit as exc:
        if exc.exit_code == 130:  # typer turns Ctrl-C inside a command into Exit(130)
            raise KeyboardInterrupt from None
        return exc.exit_code
    except click.exceptions.ClickException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help (printed already when rich is there)
            text = exc.format_message()
            if text:
                print(text)
            return 0
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        message = " ".join(str(exc.format_message()).split()) or type(exc).__name__
        raise UsageError(f"{message}{hint}") from None
    except typer.Abort as exc:
        if isinstance(exc.__context__, EOFError):
            raise UsageError(
                "the input ended before every question was answered; pass the answers as options "
                "(see --help), or --no-input where the command has it"
            ) from None
        raise KeyboardInterrupt from None
    return result if isinstance(result, int) else 0
