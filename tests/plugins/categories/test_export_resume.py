"""Exports are resumable and idempotent: a job killed with SIGKILL half-way resumes where it stopped,
and ends byte for byte as an export that was never interrupted. ``dry_run`` writes nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.categories.export.manifest import MANIFEST_NAME
from synapse_sdk.plugins.testing import run_action
from tests.conftest import SYNAPSE, run_cli
from tests.plugins.categories.export_platform import tree_digest

# Slow on request: each item takes EXPORT_TEST_DELAY seconds, so the test can kill the job mid-way.
SLOW_EXPORTER = """
import os
import time

from synapse_sdk.plugins.categories.export import BaseExporter


class Exporter(BaseExporter):
    def before_convert(self, export_item):
        time.sleep(float(os.environ.get("EXPORT_TEST_DELAY", "0")))
        return export_item
"""
ITEMS = 40


@pytest.fixture
def squares(tmp_path: Path) -> dict:
    """40 generated images with a box each, imported with a frozen ground-truth version."""
    from synapse_sdk.clients.backend.imports import import_coco
    from tests.clients.samples import write_generated

    images, coco = write_generated(tmp_path / "squares", count=ITEMS, size=(48, 36))
    report = import_coco(get_backend_client(), images, coco, project="squares", ground_truth="sq", seed=1)
    return {"project": report.project, "version": report.ground_truth_version}


def manifest_lines(folder: Path) -> int:
    try:
        return (folder / MANIFEST_NAME).read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("fmt", ["json", "coco", "yolo"])
def test_a_job_killed_half_way_resumes_to_the_same_bytes(export_plugin, squares, synapse_home, fmt):
    plugin = export_plugin(SLOW_EXPORTER)
    params = {
        "name": "killed",
        "storage": 1,
        "target": "ground_truth",
        "save_original_file": True,
        "filter": {"ground_truth_dataset_version": squares["version"]},
        "extra_params": {"output_format": fmt},
    }
    out = synapse_home / "storages" / "default" / "exports" / "killed"
    # The uninterrupted export first, in the same folder (YOLO's data.yaml names it), then moved aside.
    straight = run_action(plugin, "export", params, home=synapse_home)
    assert straight.result["export_path"] == str(out)
    reference = tree_digest(out, skip=(MANIFEST_NAME,))
    out.rename(out.with_name("reference"))

    env = {**os.environ, "SYNAPSE_HOME": str(synapse_home), "EXPORT_TEST_DELAY": "0.04"}
    job = subprocess.Popen(
        [SYNAPSE, "plugin", "run", "export", json.dumps(params), "--debug"],
        cwd=plugin,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while manifest_lines(out) < 1 + 12 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.poll() is None, job.communicate()
    os.kill(job.pid, signal.SIGKILL)
    job.communicate()
    done_before = manifest_lines(out) - 1
    assert 12 <= done_before < ITEMS

    resumed = run_cli(
        "plugin",
        "run",
        "export",
        json.dumps({**params, "resume": True}),
        "--debug",
        cwd=plugin,
        env={"SYNAPSE_HOME": str(synapse_home)},
    )
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["export_path"] == str(out)
    assert result["resumed"] >= done_before and (result["total"], result["success"]) == (ITEMS, ITEMS)

    assert tree_digest(out, skip=(MANIFEST_NAME,)) == reference
    assert len([k for k in reference if "/" in k]) >= ITEMS  # the originals are in both


def test_resume_of_a_complete_export_does_nothing(export_plugin, photo_platform, synapse_home):
    plugin = export_plugin()
    params = {"name": "once", "storage": 1, "target": "task", "filter": {"project": photo_platform.project}}
    first = run_action(plugin, "export", params, home=synapse_home)
    out = Path(first.result["export_path"])
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*")}

    again = run_action(plugin, "export", {**params, "resume": True}, home=synapse_home)
    assert again.result["already_complete"] is True
    assert again.result["export_path"] == str(out) and again.result["success"] == 4
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == stamps
    # Without resume the same name makes a new folder: an export never overwrites another.
    other = run_action(plugin, "export", params, home=synapse_home)
    assert other.result["export_path"] == f"{out}(1)"


def killed_state(out: Path, keep: int) -> None:
    """Leave ``out``'s manifest as a kill after ``keep`` items would: later lines gone, the last cut."""
    lines = (out / MANIFEST_NAME).read_bytes().splitlines(keepends=True)
    (out / MANIFEST_NAME).write_bytes(b"".join(lines[: 1 + keep]) + lines[1 + keep][:10])


def test_resume_refuses_other_params_and_changed_items(export_plugin, photo_platform, synapse_home):
    plugin = export_plugin()
    params = {"name": "half", "storage": 1, "target": "task", "filter": {"project": photo_platform.project}}
    out = Path(run_action(plugin, "export", params, home=synapse_home).result["export_path"])
    killed_state(out, keep=2)

    other = run_action(
        plugin,
        "export",
        {**params, "save_original_file": False, "resume": True},
        home=synapse_home,
        check=False,
    )
    assert other.status == "FAILED"
    assert "was exported with other params (save_original_file)" in other.error

    backend = photo_platform.client.backend
    backend.resource("assignments").delete(photo_platform.assignments[0]["id"])
    backend.resource("tasks").delete(photo_platform.tasks[0]["id"])
    changed = run_action(plugin, "export", {**params, "resume": True}, home=synapse_home, check=False)
    assert changed.status == "FAILED" and "the items changed since this export started" in changed.error


def test_resume_after_a_cut_manifest_redoes_only_the_missing_items(
    export_plugin, photo_platform, synapse_home
):
    plugin = export_plugin()
    params = {"name": "cut", "storage": 1, "target": "task", "filter": {"project": photo_platform.project}}
    first = run_action(plugin, "export", params, home=synapse_home)
    out = Path(first.result["export_path"])
    reference = tree_digest(out, skip=(MANIFEST_NAME,))
    killed_state(out, keep=1)
    (out / "json" / "rocket.json").write_text('{"half": ')  # a file the kill cut short

    again = run_action(plugin, "export", {**params, "resume": True}, home=synapse_home)
    assert again.result["resumed"] == 1
    assert [e["id"] for e in again.events("export_file")] == [t["id"] for t in photo_platform.tasks[1:]]
    assert tree_digest(out, skip=(MANIFEST_NAME,)) == reference


def test_dry_run_says_what_it_would_do_and_writes_nothing(export_plugin, photo_platform, synapse_home):
    plugin = export_plugin()
    params = {
        "name": "plan",
        "storage": 1,
        "target": "ground_truth",
        "dry_run": True,
        "filter": {"ground_truth_dataset_version": photo_platform.version},
        "extra_params": {"output_format": "yolo"},
    }
    proc = run_cli(
        "plugin",
        "run",
        "export",
        json.dumps(params),
        "--debug",
        cwd=plugin,
        env={"SYNAPSE_HOME": str(synapse_home)},
    )
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    exports = synapse_home / "storages" / "default" / "exports"
    assert plan == {
        "dry_run": True,
        "target": "ground_truth",
        "filter": params["filter"],
        "items": 4,
        "export_path": str(exports / "plan"),
        "output_format": "yolo",
        "save_original_file": True,
        "resume": False,
    }
    assert not exports.exists()
    bad = run_cli(
        "plugin",
        "run",
        "export",
        json.dumps({**params, "extra_params": {"output_format": "yolov5"}}),
        "--debug",
        cwd=plugin,
        env={"SYNAPSE_HOME": str(synapse_home)},
    )
    assert (
        bad.returncode != 0
        and "unknown format 'yolov5'" in bad.stderr
        and "did you mean 'yolo'" in bad.stderr
    )


def test_the_manifest_lets_the_writer_flush_before_its_records_reach_the_file(tmp_path, monkeypatch):
    """A kill never leaves a manifest record of an item whose journal line is still in memory."""
    from synapse_sdk.plugins.categories.export import manifest as manifest_module

    monkeypatch.setattr(manifest_module, "FLUSH_SECONDS", 0.0)  # every record is flushed
    manifest = manifest_module.Manifest.create(tmp_path, {"target": "test"})
    seen: list[int] = []
    manifest.before_flush = lambda: seen.append(manifest_lines(tmp_path))
    for index in range(3):
        manifest.record({"index": index, "id": index, "status": "success"})
    manifest.finish({"total": 3})
    assert seen[:3] == [1, 2, 3]  # each time, the file held the lines before the new one
    assert manifest_lines(tmp_path) == 5  # header, three items, done
