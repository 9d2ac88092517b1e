"""The plain `synapse plugin run` form skips typer; everything else still goes through typer."""

from __future__ import annotations

from pathlib import Path

import pytest

from synapse_sdk.cli._fast import parse_plugin_run
from tests.test_public_api import imported_by_a_plugin_run


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["plugin", "run", "train"], {"action": "train", "params": None}),
        (
            ["plugin", "run", "train", "{}", "--debug", "--path", "p", "--env", "A=1", "--env=B=2"],
            {"action": "train", "params": "{}", "debug": True, "path": Path("p"), "env": ["A=1", "B=2"]},
        ),
        (["plugin", "run", "--job-id=j1", "train", "--plugin", "x@1.0.0"],
         {"action": "train", "params": None, "job_id": "j1", "plugin": "x@1.0.0"}),
    ],
    ids=["bare", "options", "equals-and-order"],
)  # fmt: skip
def test_the_plain_forms_are_parsed(args, expected):
    assert parse_plugin_run(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["plugin", "run", "--help"],
        ["plugin", "run", "serve", "--debug"],
        ["plugin", "run", "train", "--ray-address", "auto"],
        ["plugin", "run", "train", "--port", "9000"],
        ["plugin", "run", "train", "--path"],
        ["plugin", "run", "train", "--path", "a", "--path", "b"],
        ["plugin", "run"],
        ["plugin", "run", "a", "b", "c"],
        ["plugin", "run", "train", "--debug=yes"],
        ["plugin", "check"],
        ["job", "list"],
    ],
    ids=["help", "serve", "ray", "serving-option", "missing-value", "twice", "no-action", "extra-arg",
         "flag-value", "other-command", "other-group"],
)  # fmt: skip
def test_everything_else_is_left_to_typer(args):
    assert parse_plugin_run(args) is None


def test_a_plain_run_never_imports_typer(demo_plugin):
    assert not imported_by_a_plugin_run(demo_plugin) & {"typer", "click", "rich"}
