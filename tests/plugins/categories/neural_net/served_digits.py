"""What the serving tests of neural_net build: the template's plugin, a small trained digits model, servers.

``digits_plugin`` is the plugin ``synapse plugin create`` makes from the neural_net template (its
``plugin/model.py`` is the CNN every action uses); ``digits_model_file`` is that CNN trained for
3 epochs on the first 1,500 of scikit-learn's digits (a few seconds), saved as train saves it;
``registered_model`` registers it for the plugin in the test's embedded platform. The 297 other
digits (``held_out``) are what the tests predict.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import SYNAPSE, run_cli
from tests.servers import free_port, stop_process, wait_healthy

#: How many digits (the first ones) the fixture model is trained on; the rest are held out.
TRAINED_ON = 1500


def png_base64(image: Any) -> str:
    """An image as an inference request carries it: a base64 PNG file."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def digit_images(start: int = 0, stop: int | None = None) -> tuple[list[Any], list[str]]:
    """scikit-learn's 8x8 digits ``[start:stop]`` as Pillow images (bright ink on black) and labels."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = (digits.images[start:stop] * (255 / 16)).round().astype("uint8")
    return [Image.fromarray(p, mode="L") for p in pixels], [str(t) for t in digits.target[start:stop]]


def load_model_module(plugin: Path) -> ModuleType:
    """The plugin's ``plugin/model.py``, imported under a name of its own (no ``plugin`` package clash)."""
    spec = importlib.util.spec_from_file_location("digits_template_model", plugin / "plugin" / "model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def quick_model(plugin: Path, target: Path, epochs: int = 1) -> Path:
    """The plugin's CNN trained for ``epochs`` on the first 1,500 digits, saved as train saves it."""
    import torch

    model_module = load_model_module(plugin)
    torch.manual_seed(0)
    images, labels = digit_images(0, TRAINED_ON)
    classes = [str(c) for c in range(10)]
    model = model_module.build_model(len(classes))
    loader = model_module.make_loader(images, [classes.index(x) for x in labels], shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        model_module.train_epoch(model, loader, optimizer)
    path: Path = model_module.save_model(target, model, classes, {})
    return path


@pytest.fixture(scope="session")
def digits_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The neural_net template rendered as plugin ``digits`` (what ``synapse plugin create`` writes)."""
    from synapse_sdk.plugins.templates import render_plugin

    return render_plugin("digits", "neural_net", output_dir=tmp_path_factory.mktemp("digits-plugin"))


@pytest.fixture(scope="session")
def model_module(digits_plugin: Path) -> ModuleType:
    """The template's ``model.py``: ``build_model``, ``to_tensor``, ``load_predictor``..."""
    return load_model_module(digits_plugin)


@pytest.fixture(scope="session")
def digits_model_file(digits_plugin: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's CNN trained for 3 epochs on the first 1,500 digits, saved as train saves it."""
    return quick_model(digits_plugin, tmp_path_factory.mktemp("model") / "model.pt", epochs=3)


@pytest.fixture(scope="session")
def held_out() -> tuple[list[Any], list[str]]:
    """The digits the fixture model never saw, and their labels."""
    return digit_images(TRAINED_ON)


@pytest.fixture
def registered_model(digits_model_file: Path, synapse_home: Path) -> dict[str, Any]:
    """The trained model registered for plugin ``digits@0.1.0`` in the test's embedded platform."""
    from synapse_sdk.clients.backend import get_backend_client

    data = {"name": "digits-cnn", "plugin": "digits@0.1.0", "configuration": {}, "metrics": {"accuracy": 0.9}}
    return get_backend_client().create_model(data, file=digits_model_file)


@dataclass(frozen=True)
class Server:
    """A running ``synapse plugin run serve`` of the digits plugin."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture
def served_digits(digits_plugin: Path, registered_model: dict[str, Any], synapse_home: Path,
                  tmp_path: Path) -> Iterator[Server]:  # fmt: skip
    """``synapse plugin run serve`` of the digits plugin on 127.0.0.1 (model: the newest), stopped after."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNAPSE_")}
    env.update(SYNAPSE_HOME=str(synapse_home), OMP_NUM_THREADS="1")
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        command = [SYNAPSE, "plugin", "run", "serve", "--port", str(port)]
        process = subprocess.Popen(command, cwd=digits_plugin, env=env, stdout=out, stderr=out)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", process, timeout=60)
        yield Server(f"http://127.0.0.1:{port}", process, log)
    finally:
        stop_process(process)


def job_get(run_id: str, home: Path) -> dict[str, Any]:
    """``synapse job get RUN_ID --json``: the run's record as the CLI shows it."""
    import json

    result = run_cli("job", "get", run_id, "--json", env={"SYNAPSE_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    record: dict[str, Any] = json.loads(result.stdout)
    return record


def job_stop(run_id: str, home: Path) -> str:
    """``synapse job stop RUN_ID``: what it printed (``job ID: STOPPED (...)``)."""
    result = run_cli("job", "stop", run_id, env={"SYNAPSE_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    return result.stdout
