"""The spec's import paths work, re-export modules list exactly what they export, and importing is cheap."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

SPEC_PATHS = [
    ("synapse_sdk.plugins.categories.base", "Action"),
    ("synapse_sdk.plugins.categories.neural_net", "TrainAction"),
    ("synapse_sdk.plugins.categories.export.actions.export", "ExportParams"),
    ("synapse_sdk.plugins.categories.export.templates.plugin", "BaseExporter"),
    ("synapse_sdk.plugins.categories.export.enums", "ExportStatus"),
    ("synapse_sdk.plugins.models", "PluginRelease"),
    ("synapse_sdk.plugins.models", "Run"),
    ("synapse_sdk.plugins.utils", "get_action_class"),
]
REEXPORTS = [
    "synapse_sdk.plugins",
    "synapse_sdk.plugins.models",
    "synapse_sdk.plugins.utils",
    "synapse_sdk.plugins.run",
    "synapse_sdk.plugins.categories.neural_net",
]


@pytest.mark.parametrize(("module", "name"), SPEC_PATHS, ids=[f"{m}.{n}" for m, n in SPEC_PATHS])
def test_spec_import_paths(module, name):
    assert getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("module", REEXPORTS)
def test_all_lists_exactly_the_public_names(module):
    mod = importlib.import_module(module)
    public = {
        name
        for name, value in vars(mod).items()
        if not name.startswith("_") and not isinstance(value, type(sys)) and name != "annotations"
    }
    assert set(mod.__all__) == public


def test_version_is_lazy():
    import synapse_sdk

    assert synapse_sdk.__version__.count(".") == 2


HEAVY = ["ray", "fastapi", "uvicorn", "httpx", "cookiecutter", "openpyxl", "pandas", "torch", "gradio"]


def imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


def test_importing_the_cli_pulls_in_nothing_heavy():
    loaded = imported_after("import synapse_sdk.cli")
    assert not loaded & set(HEAVY + ["rich"])


def imported_by_a_plugin_run(plugin_dir) -> set[str]:
    """Top-level modules loaded by ``synapse plugin run train ... --debug`` of the demo plugin."""
    code = (
        "import os, sys\n"
        f"os.chdir({str(plugin_dir)!r})\n"
        'params = \'{"dataset_path": "d", "epochs": 1}\'\n'
        "sys.argv = ['synapse', 'plugin', 'run', 'train', params, '--debug']\n"
        "from synapse_sdk.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
    )
    return imported_after(code)


def test_a_local_plugin_run_imports_nothing_heavy(demo_plugin):
    assert not imported_by_a_plugin_run(demo_plugin) & set(HEAVY)
