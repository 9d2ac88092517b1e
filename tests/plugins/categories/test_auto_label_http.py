"""auto_label over HTTP: a model served by another plugin's restapi endpoint, and the platform over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from synapse_sdk.clients.backend import BackendClient
from synapse_sdk.errors import ExecutionError
from synapse_sdk.plugins.categories.smart_tool import AutoLabelAction
from tests.conftest import SYNAPSE
from tests.plugins.categories.smart_tool_platform import (
    ASTRONAUT_FACE,
    DETECT_CONFIG,
    DETECT_SOURCE,
    boxes,
    build_project,
    iou,
    photo_files,
    photo_project,
    prediction,
)
from tests.servers import free_port, stop_process, wait_healthy

__all__ = ["photo_files", "photo_project"]  # the fixtures, imported for the tests below

TOKEN = "detect-token-7f3a9c2e51"


@pytest.fixture(scope="module")
def detect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``synapse plugin run serve`` of the detector plugin on 127.0.0.1; its endpoint's URL."""
    folder = tmp_path_factory.mktemp("detect-plugin")
    (folder / "plugin").mkdir()
    (folder / "plugin" / "__init__.py").write_text("")
    (folder / "plugin" / "detect.py").write_text(textwrap.dedent(DETECT_SOURCE))
    (folder / "config.yaml").write_text(DETECT_CONFIG)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNAPSE_")}
    env["SYNAPSE_HOME"] = str(folder / "home")
    with open(folder / "serve.log", "wb") as log:
        server = subprocess.Popen([SYNAPSE, "plugin", "run", "serve", "--port", str(port)], cwd=folder,
                                  env=env, stdout=log, stderr=log)  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", server, timeout=30)
        yield f"http://127.0.0.1:{port}/inference"
    finally:
        stop_process(server)


def test_a_served_model_labels_the_tasks_and_its_token_stays_secret(photo_project, detect_url, store) -> None:
    params = {"project": photo_project.project, "batch_size": 3, "model": {"url": detect_url, "token": TOKEN}}
    result = AutoLabelAction(params=params).run_action()

    source = f"http:{detect_url}"
    astronaut = prediction(photo_project.task("astronaut.jpg"), source)
    assert any(cls == "face" and iou(box, ASTRONAUT_FACE) > 0.5 for cls, box, _ in boxes(astronaut))
    assert result["label_map"] == {"face": "face", "cat_face": "cat_face"}, "labels asked from the endpoint"
    assert result["tasks_failed"] == 0
    direct = AutoLabelAction(params={"project": photo_project.project}).run_action()
    assert result["boxes_written"] == direct["boxes_written"], "the same cascades, served or not"
    (record, _) = sorted(store.list_runs(), key=lambda r: r.created_at)
    recorded = json.dumps([record.params, record.result, [e.message for e in store.get_logs(record.id)]])
    assert TOKEN not in recorded
    assert record.params["model"]["token"] == "***"


def test_an_unreachable_endpoint_fails_the_run(photo_project) -> None:
    params = {"project": photo_project.project, "model": {"url": f"http://127.0.0.1:{free_port()}/inference"}}
    with pytest.raises(ExecutionError, match="ConnectError"):
        AutoLabelAction(params=params).run_action()


def test_auto_label_against_the_http_platform(backend_server, photo_files, detect_url, monkeypatch) -> None:
    remote = BackendClient(backend_server.url, backend_server.token)
    try:
        project = build_project(remote, *photo_files)
        monkeypatch.setenv("SYNAPSE_HOST", backend_server.url)
        monkeypatch.setenv("SYNAPSE_ACCESS_TOKEN", backend_server.token)
        action = AutoLabelAction(params={"project": project.project, "model": {"url": detect_url}})
        action.client = remote
        result = action.run_action()

        assert result["tasks"] == 4 and result["tasks_failed"] == 0
        astronaut = prediction(project.task("astronaut.jpg"), f"http:{detect_url}")
        assert any(iou(box, ASTRONAUT_FACE) > 0.5 for _, box, _ in boxes(astronaut))
    finally:
        remote.backend.close()
    assert not Path(os.environ["SYNAPSE_HOME"], "synapse.db").exists(), "the run went to the server too"
