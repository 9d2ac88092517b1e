"""Uploads are idempotent: files are stored by content and data units known by their files, so a
finished upload run again sends nothing, and one killed with SIGKILL half-way finishes the rest."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.errors import FileChecksumMismatch
from synapse_sdk.plugins.categories.upload.transfer import send_files
from synapse_sdk.plugins.testing import run_action
from tests.conftest import SYNAPSE, run_cli
from tests.plugins.categories.upload_platform import (
    pairs_collection,
    units_of,
    upload_errors,
    upload_plugin,
    write_pairs,
)

__all__ = ["upload_plugin"]  # the fixture, imported for the tests below

# Slow on request: each batch waits UPLOAD_TEST_DELAY seconds, so the test can kill the job mid-way.
SLOW_UPLOADER = """
import os
import time

from synapse_sdk.plugins.categories.upload import BaseUploader


class Uploader(BaseUploader):
    def process_files(self, files):
        time.sleep(float(os.environ.get("UPLOAD_TEST_DELAY", "0")))
        return files
"""
UNITS = 40


def stored_files(storage_root: Path) -> dict[Path, int]:
    """Every file of a local storage, with its modification time."""
    return {p: p.stat().st_mtime_ns for p in storage_root.rglob("*") if p.is_file()}


def test_a_finished_upload_run_again_sends_nothing(upload_plugin, tmp_path, synapse_home):
    client = get_backend_client()
    write_pairs(tmp_path / "data", 5)
    (tmp_path / "data" / "image" / "twin.png").write_bytes(
        (tmp_path / "data" / "image" / "p000.png").read_bytes()
    )
    collection = pairs_collection(client)
    params = {"name": "again", "data_collection": collection["id"], "path": str(tmp_path / "data")}
    first = run_action(upload_plugin(), "upload", params, home=synapse_home).result
    storage = synapse_home / "storages" / "default"
    before = stored_files(storage)

    again = run_action(upload_plugin(), "upload", params, home=synapse_home)

    assert (first["uploaded"], first["skipped"], first["data_units"]) == (
        10,
        1,
        6,
    )  # twin: same bytes as p000
    result = again.result
    assert (result["uploaded"], result["skipped"], result["bytes_uploaded"]) == (0, 11, 0)
    assert (result["data_units_created"], result["data_units_existing"]) == (0, 6)
    assert again.metrics["data_file"]["success"] == 0 and again.metrics["data_file"]["skipped"] == 11
    assert {unit["status"] for unit in again.events("upload_data_unit")} == {"skipped"}  # found, not made
    assert stored_files(storage) == before and len(units_of(client, collection["id"])) == 6


def data_files(client) -> int:  # type: ignore[no-untyped-def]
    return client.list_data_files({})["count"]


def test_an_upload_killed_half_way_uploads_only_the_rest_and_duplicates_no_unit(
    upload_plugin, tmp_path, synapse_home
):
    client = get_backend_client()
    write_pairs(tmp_path / "data", UNITS)
    collection = pairs_collection(client)
    project = client.create_project({"title": "resume", "data_collection": collection["id"]})
    plugin = upload_plugin(SLOW_UPLOADER)
    params = {
        "name": "killed",
        "data_collection": collection["id"],
        "project": project["id"],
        "path": str(tmp_path / "data"),
        "upload_batch_size": 4,
    }
    env = {**os.environ, "SYNAPSE_HOME": str(synapse_home), "UPLOAD_TEST_DELAY": "0.1"}
    job = subprocess.Popen(
        [SYNAPSE, "plugin", "run", "upload", json.dumps(params), "--debug"],
        cwd=plugin,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while data_files(client) < 3 * 8 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.poll() is None, job.communicate()
    os.kill(job.pid, signal.SIGKILL)
    job.communicate()
    had = data_files(client)
    assert 24 <= had < 2 * UNITS

    resumed = run_cli(
        "plugin",
        "run",
        "upload",
        json.dumps(params),
        "--debug",
        cwd=plugin,
        env={"SYNAPSE_HOME": str(synapse_home)},
    )

    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert (result["uploaded"], result["skipped"]) == (2 * UNITS - had, had)
    assert result["data_units"] == UNITS and result["data_units_existing"] >= had // 2 - 4
    units = units_of(client, collection["id"])
    assert len(units) == UNITS and len({u["checksum"] for u in units}) == UNITS
    tasks = list(client.list_tasks({"project": project["id"]}, list_all=True)[0])
    assert sorted(t["data_unit"] for t in tasks) == sorted(u["id"] for u in units)


def test_a_file_that_changes_after_it_was_hashed_fails_alone_without_retries(tmp_path):
    client = get_backend_client()
    files = [tmp_path / "a.txt", tmp_path / "b.txt"]
    for file in files:
        file.write_text(f"bytes of {file.name}")
    sums = [hashlib.sha256(file.read_bytes()).hexdigest() for file in files]
    files[1].write_text("changed while the upload ran")
    retried: list[str] = []

    outcomes = send_files(
        client,
        [{"path": f, "name": f.name, "checksum": s} for f, s in zip(files, sums, strict=True)],
        storage=1,
        workers=2,
        retries=3,
        log=lambda message, level: retried.append(message),
    )

    assert outcomes[0]["checksum"] == sums[0]
    assert isinstance(outcomes[1], FileChecksumMismatch) and retried == []
    assert list(client.find_data_files(sums)) == [sums[0]]


VANISHING = """
from synapse_sdk.plugins.categories.upload import BaseUploader


class Uploader(BaseUploader):
    def after_process(self, files):
        files[0]["files"]["label"].unlink()  # as if someone deleted it while the upload ran
        return files
"""


def test_a_file_that_disappears_fails_its_unit_only(upload_plugin, tmp_path, synapse_home):
    client = get_backend_client()
    write_pairs(tmp_path / "data", 3)
    collection = pairs_collection(client)
    params = {"name": "gone", "data_collection": collection["id"], "path": str(tmp_path / "data")}

    result = run_action(upload_plugin(VANISHING), "upload", params, home=synapse_home).result

    assert (result["data_units"], result["data_units_failed"], result["uploaded"]) == (2, 1, 4)
    errors = upload_errors(result)
    assert (
        errors[0]["file"].endswith("label/p000.txt")
        and "disappeared before it was uploaded" in errors[0]["error"]
    )
