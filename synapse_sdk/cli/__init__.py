"""The ``synapse`` command: a thin shell over the library.

Every ``SynapseError`` becomes ``Error: <message>`` and its exit code (2 for bad input, 1 for a
failed action); ``SYNAPSE_DEBUG=1`` shows the traceback instead. The common
``synapse plugin run ACTION [PARAMS] [--debug] ...`` skips typer entirely (see ``_fast``), so a
local run starts as fast as the plugin's own imports allow.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from synapse_sdk.errors import SynapseError

    args = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("SYNAPSE_DEBUG", "") not in ("", "0", "false")
    try:
        sys.exit(_dispatch(_checked(args)))
    except SynapseError as exc:
        if debug:
            raise
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"Error: {line}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
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


def _checked(args: list[str]) -> list[str]:
    """``args`` if each is text; bytes that are not UTF-8 (kept as lone surrogates) are refused here,
    before they reach a store or a file name that cannot encode them."""
    from synapse_sdk.errors import UsageError

    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = repr(arg) if len(arg) <= 60 else f"{arg[:57]!r}..."
            raise UsageError(f"argument {shown} is not UTF-8 text; pass it as UTF-8") from None
    return args


def _dispatch(args: list[str]) -> int:
    from synapse_sdk.cli._fast import parse_plugin_run

    fast = parse_plugin_run(args)
    if fast is not None:
        from synapse_sdk.cli.run_command import run_plugin_action

        run_plugin_action(**fast)
        return 0
    from synapse_sdk.cli.app import run_typer

    return run_typer(args)


def __getattr__(name: str) -> Any:
    if name == "app":
        from synapse_sdk.cli.app import app

        return app
    raise AttributeError(f"module 'synapse_sdk.cli' has no attribute {name!r}")
