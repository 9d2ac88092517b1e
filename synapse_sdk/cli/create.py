"""``synapse plugin create``: answer a few questions (or pass flags) and get a working plugin folder."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer

from synapse_sdk.cli._json import dumps
from synapse_sdk.cli.plugin import app

T = TypeVar("T")


@app.command("create")
def create(
    code: str = typer.Option(None, "--code", help="Plugin code, a slug like 'my-plugin'."),
    name: str = typer.Option(None, "--name", help="Display name (default: from the code)."),
    description: str = typer.Option(None, "--description", help="One line about the plugin."),
    category: str = typer.Option(None, "--category", help="neural_net, export, upload, smart_tool, ..."),
    actions: str = typer.Option(
        None, "--actions", help="Actions to include, like 'train,test' (default: all)."
    ),
    output: Path = typer.Option(Path("."), "--output", "-o", help="Folder to create the plugin in."),
    no_input: bool = typer.Option(False, "--no-input", help="Never prompt; missing values take defaults."),
) -> None:
    """Create synapse-CODE-plugin/ from the category's template; prompts for what flags leave out."""
    from synapse_sdk.errors import UsageError
    from synapse_sdk.plugins import templates as tpl
    from synapse_sdk.plugins.categories import CATEGORIES, Category

    # Flags are checked up front: a bad flag is an error even when we could prompt.
    if code is not None:
        code = tpl.validate_code(code)
        tpl.check_target(output, code)
    if category is not None:
        category = tpl.validate_category(category).value
        if actions is not None:
            tpl.validate_actions(category, actions)
    if no_input:
        missing = [flag for flag, value in (("--code", code), ("--category", category)) if value is None]
        if missing:
            raise UsageError(
                f"{' and '.join(missing)} required with --no-input, "
                "like --code my-plugin --category neural_net"
            )
    if code is None:
        code = _ask("Plugin code (a slug like my-plugin)", None, lambda v: _code_and_target(v, output))
    if name is None:
        name = tpl.default_name(code) if no_input else _ask("Plugin name", tpl.default_name(code), _non_empty)
    if description is None:
        description = "" if no_input else _ask("Description", "", str.strip)
    if category is None:
        choices = [c.value for c in Category]
        menu = ", ".join(f"{n}) {c}" for n, c in enumerate(choices, start=1))
        category = _ask(f"Category [{menu}]", None, lambda v: tpl.validate_category(_pick(v, choices)).value)
    known = list(CATEGORIES[Category(category)].actions)
    if actions is None and not no_input and len(known) > 1:
        actions = _ask(f"Actions, comma-separated ({', '.join(known)})", ",".join(known),
                       lambda v: ",".join(tpl.validate_actions(category, v)))  # fmt: skip
    target = tpl.render_plugin(
        code, category, name=name, description=description, actions=actions, output_dir=output
    )
    print(target)
    template = tpl.get_template(category)
    chosen = tpl.validate_actions(category, actions)
    # A neural_net plugin's other actions need the model its train action registers: train comes first.
    first = template.actions["train" if "train" in chosen else chosen[0]]
    params = f" '{dumps(first.example_params)}'" if first.example_params else ""
    print(
        f"created {target.name}/ ({category}: {', '.join(chosen)}) from template {template.name} "
        f"{template.version}\nnext (README.md shows every action):\n  cd {target}\n"
        f"  synapse plugin run {first.name}{params} --debug\n  pytest plugin/",
        file=sys.stderr,
    )


def _ask(question: str, default: str | None, parse: Callable[[str], T]) -> T:
    """Prompt until ``parse`` accepts the answer; each rejection prints its one-line reason."""
    from synapse_sdk.errors import UsageError

    while True:
        answer = typer.prompt(question, default=default, show_default=bool(default))
        try:
            return parse(str(answer).strip())
        except UsageError as exc:
            typer.echo(f"Error: {re.sub(r'^--[a-z-]+: ', '', str(exc))}", err=True)


def _code_and_target(value: str, output: Path) -> str:
    from synapse_sdk.plugins import templates as tpl

    code = tpl.validate_code(value)
    tpl.check_target(output, code)
    return code


def _non_empty(value: str) -> str:
    from synapse_sdk.errors import UsageError

    if not value:
        raise UsageError("a name is required, like 'My Plugin'")
    return value


def _pick(value: str, choices: list[str]) -> str:
    """A menu answer: a number from the menu, or the name itself."""
    if value.isdigit() and 1 <= int(value) <= len(choices):
        return choices[int(value) - 1]
    return value
