"""``synapse plugin create``: flags, prompts that re-ask, and bad input that writes nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from synapse_sdk.plugins.config import PluginConfig
from tests.conftest import SYNAPSE, run_cli


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def create_with_input(answers: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SYNAPSE, "plugin", "create", *args], input=answers, cwd=cwd,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_flags_create_a_valid_plugin(tmp_path: Path) -> None:
    description = 'Boxes: "cars" & #people'
    proc = run_cli(
        "plugin",
        "create",
        "--code",
        "my-plugin",
        "--name",
        "My: Plugin",
        "--description",
        description,
        "--category",
        "neural_net",
        "--actions",
        "train,inference",
        "--output",
        str(tmp_path),
        "--no-input",
    )

    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "synapse-my-plugin-plugin"
    assert proc.stdout.strip() == str(folder)
    config = PluginConfig.load(folder)
    assert (config.code, config.name, config.description) == ("my-plugin", "My: Plugin", description)
    assert list(config.actions) == ["inference", "train"]
    # The next step shown is train: the other neural_net actions need the model it registers.
    assert "cd " in proc.stderr
    assert """synapse plugin run train '{"dataset": "digits", "epochs": 10}' --debug""" in proc.stderr
    assert listing(tmp_path)[0] == "synapse-my-plugin-plugin"  # no staging folder left behind


def test_no_input_defaults_name_and_all_actions(tmp_path: Path) -> None:
    proc = run_cli(
        "plugin", "create", "--code", "pre", "--category", "pre_annotation", "--no-input", cwd=tmp_path
    )

    assert proc.returncode == 0, proc.stderr
    config = PluginConfig.load(tmp_path / "synapse-pre-plugin")
    assert config.name == "Pre"
    assert list(config.actions) == ["pre_annotation", "to_task"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--code", "My Plugin", "--category", "export"], "--code: 'My Plugin' is not a plugin code"),
        (["--code", "-x", "--category", "export"], "like 'my-plugin'"),
        (
            ["--code", "ok", "--category", "nueral_net"],
            "unknown category 'nueral_net' (did you mean 'neural_net'?)",
        ),
        (
            ["--code", "ok", "--category", "neural_net", "--actions", "train,trian"],
            "no action 'trian' (did you mean 'train'?); choose from deployment, gradio, inference, test",
        ),
        (
            ["--code", "ok", "--category", "export", "--actions", "train"],
            "export plugins have no action 'train'",
        ),
        (["--category", "export"], "--code required with --no-input"),
    ],
    ids=["code-space", "code-dash", "category", "action-typo", "action-other-category", "missing-code"],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    proc = run_cli("plugin", "create", *args, "--no-input", cwd=tmp_path)

    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: ")
    assert "Traceback" not in proc.stderr
    assert listing(tmp_path) == []


def test_an_existing_folder_is_never_touched(tmp_path: Path) -> None:
    existing = tmp_path / "synapse-taken-plugin"
    existing.mkdir()
    (existing / "mine.txt").write_text("keep me")

    proc = run_cli("plugin", "create", "--code", "taken", "--category", "upload", "--no-input", cwd=tmp_path)

    assert proc.returncode == 2
    assert "exists already" in proc.stderr
    assert listing(tmp_path) == ["synapse-taken-plugin", "synapse-taken-plugin/mine.txt"]
    assert (existing / "mine.txt").read_text() == "keep me"


def test_prompts_reask_until_the_answer_is_valid(tmp_path: Path) -> None:
    (tmp_path / "synapse-taken-plugin").mkdir()
    answers = "\n".join([
        "Not A Slug",  # rejected: not a slug
        "taken",  # rejected: folder exists
        "labels",  # code
        "",  # name: take the default
        "Checks labels",  # description
        "nope",  # rejected: unknown category
        "7",  # category by menu number: data_validation
    ]) + "\n"  # fmt: skip
    proc = create_with_input(answers, tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert "Error: 'Not A Slug' is not a plugin code" in proc.stderr
    assert "exists already" in proc.stderr
    assert "Error: unknown category 'nope'" in proc.stderr
    config = PluginConfig.load(tmp_path / "synapse-labels-plugin")
    assert (config.name, config.description, config.category.value) == (
        "Labels",
        "Checks labels",
        "data_validation",
    )


def test_prompted_actions_are_checked_against_the_category(tmp_path: Path) -> None:
    # code, description (empty), a rejected action, then a valid one
    answers = "tasks\n\nto_tsk\nto_task\n"
    proc = create_with_input(answers, tmp_path, "--category", "pre_annotation", "--name", "Tasks")

    assert proc.returncode == 0, proc.stderr
    assert "no action 'to_tsk' (did you mean 'to_task'?)" in proc.stderr
    folder = tmp_path / "synapse-tasks-plugin"
    assert list(PluginConfig.load(folder).actions) == ["to_task"]
    assert sorted(p.name for p in (folder / "plugin").glob("*.py")) == [
        "__init__.py", "sample.py", "test_to_task.py", "to_task.py",
    ]  # fmt: skip
    record = json.loads((folder / ".synapse-template.json").read_text())
    assert record["answers"]["actions"] == ["to_task"]


def test_created_actions_take_the_category_tables_default_methods(tmp_path: Path) -> None:
    from synapse_sdk.plugins.categories import CATEGORIES, Category

    args = ["--code", "nn", "--category", "neural_net", "--actions", "train,gradio", "--no-input"]
    proc = run_cli("plugin", "create", *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    config = PluginConfig.load(tmp_path / "synapse-nn-plugin")
    table = CATEGORIES[Category.NEURAL_NET].actions
    assert {name: a.method for name, a in config.actions.items()} == {
        "gradio": table["gradio"].default_method,
        "train": table["train"].default_method,
    }
    assert (table["gradio"].default_method, table["train"].default_method) == ("restapi", "job")
