"""The fast path of ``synapse plugin run``: the common options parsed without loading typer.

Only the plain form is taken here; anything else (``--help``, ``serve``, Ray or serving
options, an unknown or malformed option) returns None and goes through typer, which owns the
command's definition, help and error messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_FLAGS = {"--debug": "debug"}
_VALUES = {"--plugin": "plugin", "--job-id": "job_id", "--path": "path"}
_REPEATED = {"--env": "env"}


def parse_plugin_run(args: list[str]) -> dict[str, Any] | None:
    """Keyword arguments for ``run_plugin_action``, or None when typer must parse ``args``."""
    if args[:2] != ["plugin", "run"]:
        return None
    positional: list[str] = []
    options: dict[str, Any] = {}
    rest = args[2:]
    i = 0
    while i < len(rest):
        arg = rest[i]
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
        else:
            name, eq, value = arg.partition("=")
            if name in _FLAGS and not eq:
                options[_FLAGS[name]] = True
            elif name in _VALUES or name in _REPEATED:
                if not eq:
                    i += 1
                    if i >= len(rest):
                        return None
                    value = rest[i]
                if name in _VALUES:
                    if _VALUES[name] in options:
                        return None
                    options[_VALUES[name]] = Path(value) if name == "--path" else value
                else:
                    options.setdefault(_REPEATED[name], []).append(value)
            else:
                return None
        i += 1
    if not 1 <= len(positional) <= 2 or positional[0] == "serve":
        return None
    return {"action": positional[0], "params": positional[1] if len(positional) == 2 else None, **options}
