"""Every category template generates a plugin that works as generated.

One module-scoped fixture creates all seven plugins (every action) with the real
``synapse plugin create``; each plugin then runs every README line, its own tests, ``check``,
``publish --dry-run`` and ruff, all as real subprocesses.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from synapse_sdk.plugins.categories import CATEGORIES as TABLE
from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.templates import RECORD_FILE, get_template, list_templates, render_plugin
from tests.conftest import SYNAPSE, run_cli

CATEGORIES = [c.value for c in Category]


def declared(category: str | Category) -> list[str]:
    """The category's actions, as the category table declares them."""
    return list(TABLE[Category(category)].actions)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """category -> the plugin folder ``synapse plugin create --no-input`` made for it."""
    out = tmp_path_factory.mktemp("generated")
    folders = {}
    for category in CATEGORIES:
        code = f"demo-{category.replace('_', '-')}"
        result = run_cli(
            "plugin", "create", "--code", code, "--category", category, "--no-input", "-o", str(out)
        )
        assert result.returncode == 0, result.stderr
        folders[category] = Path(result.stdout.strip())
    return folders


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for subprocesses: a private SYNAPSE_HOME, no remote backend."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNAPSE_")}
    return {**env, "SYNAPSE_HOME": str(tmp_path_factory.mktemp("home"))}


def readme_run_lines(folder: Path) -> list[list[str]]:
    """The ``synapse plugin run ...`` lines the generated README tells users to type."""
    lines = (folder / "README.md").read_text().splitlines()
    return [shlex.split(line)[3:] for line in lines if line.startswith("synapse plugin run ")]


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_every_category_has_a_template_for_every_action() -> None:
    templates = list_templates()
    assert [t.name for t in templates] == CATEGORIES
    for template in templates:
        assert list(template.actions) == declared(template.category)
        for action in template.actions.values():
            spec = TABLE[template.category].actions[action.name]
            assert (action.method, action.methods) == (spec.default_method, spec.methods)


@pytest.mark.parametrize("category", CATEGORIES)
def test_generated_layout_and_config(generated: dict[str, Path], category: str) -> None:
    folder = generated[category]
    assert folder.name == f"synapse-demo-{category.replace('_', '-')}-plugin"
    for file in ("config.yaml", "plugin/__init__.py", "requirements.txt", "pyproject.toml", "README.md"):
        assert (folder / file).is_file(), file
    config = yaml.safe_load((folder / "config.yaml").read_text())
    actions = declared(category)
    assert list(config["actions"]) == list(actions)
    template = get_template(category)
    for action in actions:
        entry = config["actions"][action]
        assert entry["entrypoint"] == f"plugin.{action}.{template.actions[action].class_name}"
        assert entry["method"] == TABLE[Category(category)].actions[action].default_method
        assert (folder / "plugin" / f"{action}.py").is_file()
        assert (folder / "plugin" / f"test_{action}.py").is_file()
    record = json.loads((folder / RECORD_FILE).read_text())
    assert (record["template"], record["template_version"]) == (category, template.version)
    assert record["answers"]["actions"] == list(actions)


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_readme_run_line_succeeds(
    generated: dict[str, Path], home: dict[str, str], category: str
) -> None:
    folder = generated[category]
    runs = readme_run_lines(folder)
    assert sorted(args[0] for args in runs) == sorted(declared(category))
    for args in runs:
        assert args[-1] == "--debug"
        result = run_cli("plugin", "run", *args, cwd=folder, env=home)
        assert result.returncode == 0, f"synapse plugin run {shlex.join(args)}:\n{result.stderr}"
        json.loads(result.stdout)
        assert "succeeded" in result.stderr
    stop_servers(home)


def stop_servers(home: dict[str, str]) -> None:
    """``synapse job stop`` every serving run still up (what neural_net's deployment line started)."""
    listed = run_cli("job", "list", "--json", env=home)
    for run in json.loads(listed.stdout or "[]"):
        if run["status"] == "RUNNING" and run["action"] == "serve":
            stopped = run_cli("job", "stop", run["id"], env=home)
            assert stopped.returncode == 0, stopped.stderr


@pytest.mark.parametrize("category", CATEGORIES)
def test_check_and_publish_dry_run_accept_it(
    generated: dict[str, Path], home: dict[str, str], category: str
) -> None:
    folder = generated[category]
    check = run_cli("plugin", "check", cwd=folder, env=home)
    assert check.returncode == 0, check.stderr
    assert check.stdout.count("ok ") == len(declared(category))
    publish = run_cli("plugin", "publish", "--dry-run", cwd=folder, env=home)
    assert publish.returncode == 0, publish.stderr


def test_generated_tests_pass(generated: dict[str, Path], home: dict[str, str]) -> None:
    """``pytest plugin/`` in each folder, as an author runs it (its own pyproject settings)."""
    for category, folder in generated.items():
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "plugin/", "-p", "no:cacheprovider"],
            cwd=folder, env=home, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, f"{category}:\n{result.stdout[-3000:]}"
        assert " passed" in result.stdout and "failed" not in result.stdout


def test_restapi_actions_serve_as_generated(generated: dict[str, Path], home: dict[str, str]) -> None:
    """The neural_net plugin's restapi actions answer over the real dev server (setup() runs once)."""
    import httpx

    from synapse_sdk.clients.backend import get_backend_client
    from synapse_sdk.plugins.testing import embedded_backend
    from tests.plugins.categories.neural_net.served_digits import digit_images, png_base64, quick_model
    from tests.servers import free_port, stop_process, wait_healthy

    folder, port = generated["neural_net"], free_port()
    with embedded_backend(home["SYNAPSE_HOME"]):
        data = {"name": "digits-cnn", "plugin": "demo-neural-net@0.1.0"}
        model = get_backend_client().create_model(data, file=quick_model(folder, folder.parent / "model.pt"))
    with open(folder.parent / "serve.log", "wb") as log:
        proc = subprocess.Popen([SYNAPSE, "plugin", "run", "serve", "--debug", "--port", str(port)],
                                cwd=folder, env=home, stdout=log, stderr=log)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(f"{url}/health", proc, timeout=60)
        image = png_base64(digit_images(1790, 1791)[0][0])
        inference = httpx.post(f"{url}/inference", json={"image": image, "model": model["id"]}, timeout=10)
        assert inference.status_code == 200, inference.text
        assert inference.json()["model"] == model["id"]
        assert set(inference.json()["scores"]) == {str(c) for c in range(10)}
        checked = httpx.post(f"{url}/gradio", json={"image": image, "model": model["id"]}, timeout=30).json()
        assert (checked["launched"], checked["class"]) == (False, inference.json()["class"])
        deployed = httpx.post(f"{url}/deployment", json={"model": model["id"]}, timeout=60).json()
        try:
            again = httpx.post(deployed["inference"], json={"image": image}, timeout=10).json()
            assert again == inference.json()
        finally:
            stopped = run_cli("job", "stop", deployed["serving_run"], env=home)
        assert stopped.returncode == 0, stopped.stderr
        assert httpx.post(f"{url}/inference", json={}, timeout=10).status_code == 422
    finally:
        stop_process(proc)


def test_generated_code_is_lint_clean(generated: dict[str, Path]) -> None:
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "check", "--isolated", "--no-cache", "--select", "E,F,W,I,B,UP", "--line-length", "110",
         *[str(f) for f in generated.values()]],
        capture_output=True, text=True, cwd=next(iter(generated.values())).parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    formatted = subprocess.run(
        [str(ruff), "format", "--isolated", "--no-cache", "--check", "--line-length", "110",
         *[str(f) for f in generated.values()]],
        capture_output=True, text=True,
    )  # fmt: skip
    assert formatted.returncode == 0, formatted.stdout


def test_some_actions_only(tmp_path: Path) -> None:
    folder = render_plugin("vision", "neural_net", actions="train,inference", output_dir=tmp_path)
    config = yaml.safe_load((folder / "config.yaml").read_text())
    assert list(config["actions"]) == ["inference", "train"]
    modules = sorted(p.name for p in (folder / "plugin").glob("*.py"))
    assert modules == [
        "__init__.py",
        "conftest.py",
        "inference.py",
        "model.py",
        "test_inference.py",
        "test_train.py",
        "train.py",
    ]


def test_the_record_reproduces_the_plugin(tmp_path: Path) -> None:
    """``.synapse-template.json`` holds what is needed to re-apply the template."""
    first = render_plugin("again", "upload", name="Again", description="Twice", output_dir=tmp_path / "a")
    answers = json.loads((first / RECORD_FILE).read_text())["answers"]
    second = render_plugin(
        answers["code"], answers["category"], name=answers["name"], description=answers["description"],
        actions=answers["actions"], output_dir=tmp_path / "b",
    )  # fmt: skip
    assert tree(first) == tree(second)
    assert "Twice" in (second / "README.md").read_text()


def test_output_folders_are_created(tmp_path: Path) -> None:
    folder = render_plugin("deep", "smart_tool", output_dir=tmp_path / "a" / "b")

    assert folder == tmp_path / "a" / "b" / "synapse-deep-plugin"
    assert sorted(p.name for p in folder.parent.iterdir()) == ["synapse-deep-plugin"]


def test_generated_config_lists_each_actions_methods(generated: dict[str, Path]) -> None:
    """Each ``method:`` line says, in a comment, which methods the category table allows."""
    for category, folder in generated.items():
        lines = (folder / "config.yaml").read_text().splitlines()
        methods = [line.strip() for line in lines if line.strip().startswith("method:")]
        expected = [
            f'method: "{spec.default_method}"  # {", ".join(spec.methods)}'
            for spec in TABLE[Category(category)].actions.values()
        ]
        assert methods == expected, category
