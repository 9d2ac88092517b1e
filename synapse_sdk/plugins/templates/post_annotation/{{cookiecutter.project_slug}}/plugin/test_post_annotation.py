"""Tests of the ``post_annotation`` action, on the sample project it makes from sample_data/."""

import json
from pathlib import Path

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.testing import embedded_backend

PLUGIN_DIR = Path(__file__).resolve().parents[1]


def plugin_files():
    """Every file in the plugin folder (but Python's caches), with its modification time."""
    return {
        path: path.stat().st_mtime_ns
        for path in PLUGIN_DIR.rglob("*")
        if path.is_file() and not {"__pycache__", ".pytest_cache"} & set(path.parts)
    }


def test_the_sample_tasks_are_merged_and_become_a_frozen_version(synapse_run, tmp_path):
    run = synapse_run("post_annotation", {"seed": 7})

    assert run.succeeded
    assert (run.result["reviewed"], run.result["needs_review"], run.result["failed"]) == (4, 1, 0)
    report = json.loads(Path(run.result["report"]).read_text())
    chelsea = [t for t in report["tasks"] if t["status"] == "needs_review"]
    # Chelsea: two eyes by alice, one by bob: 3 of 4 ratings agree.
    assert [t["agreement"] for t in chelsea] == [0.75]
    assert report["classes"]["eye"]["objects"] == 2
    with embedded_backend(tmp_path / "synapse-home"):
        client = get_backend_client()
        version = client.get_ground_truth_version(run.result["ground_truth_version"])
        events = list(
            client.list_ground_truth_events({"ground_truth_dataset_version": version["id"]}, list_all=True)[0]
        )
    assert version["is_frozen"] and len(events) == 4
    assert sum(run.result["splits"].values()) == 4
    assert run.progress["consensus"]["percent"] == 100


def test_the_same_seed_gives_the_same_version(synapse_run):
    first = synapse_run("post_annotation", {"seed": 7})
    again = synapse_run("post_annotation", {"seed": 7})

    assert again.result["ground_truth_version"] == first.result["ground_truth_version"]


def test_a_lower_bar_reviews_every_task(synapse_run):
    run = synapse_run("post_annotation", {"review_threshold": 0.7})

    assert (run.result["reviewed"], run.result["needs_review"]) == (5, 0)


def test_post_annotation_writes_nothing_into_the_plugin_folder(synapse_run):
    before = plugin_files()
    synapse_run("post_annotation")

    assert plugin_files() == before
