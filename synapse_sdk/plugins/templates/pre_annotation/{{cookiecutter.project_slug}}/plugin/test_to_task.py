"""Tests of the ``to_task`` action, using the sample files in sample_data/raw."""

import json
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parents[1]


def plugin_files():
    """Every file in the plugin folder (but Python's caches), with its modification time."""
    return {
        path: path.stat().st_mtime_ns
        for path in PLUGIN_DIR.rglob("*")
        if path.is_file() and not {"__pycache__", ".pytest_cache"} & set(path.parts)
    }


def test_to_task_assigns_round_robin(synapse_run):
    run = synapse_run("to_task", {"annotators": ["ann", "bob", "cy"]})

    assert run.succeeded
    output = run.folder / "tasks.json"
    assert run.result["output_path"] == str(output)
    tasks = json.loads(output.read_text())
    assert [t["assignee"] for t in tasks] == ["ann", "bob", "cy", "ann"]
    assert len({t["data_unit"] for t in tasks}) == 4
    assert run.metrics["assignments"] == {"ann": 2, "bob": 1, "cy": 1}
    assert run.progress["tasks"]["current"] == 4


def test_to_task_writes_to_an_output_path(synapse_run, tmp_path):
    output = tmp_path / "tasks.json"
    run = synapse_run("to_task", {"output_path": str(output)})

    assert run.result["output_path"] == str(output.resolve())
    assert len(json.loads(output.read_text())) == run.result["tasks"] == 4


def test_to_task_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("to_task")

    assert plugin_files() == before
