"""The template's Gradio page in a real headless Chromium: upload a digit, read the class the page shows.

The ``gradio`` action is launched the way a user does (``synapse plugin run gradio '{"launch": true}'
--job-id ...``, a detached worker), Playwright drives Debian's Chromium (the ``browser`` session
fixture), and ``synapse job stop`` takes the page down.
"""

from __future__ import annotations

import importlib.util
import json
import time

import httpx
import pytest

from synapse_sdk.plugins.categories.neural_net.gradio import CLASS_ELEMENT
from tests.conftest import run_cli
from tests.plugins.categories.neural_net.served_digits import (
    digits_model_file,
    digits_plugin,
    held_out,
    job_get,
    job_stop,
    model_module,
    registered_model,
)
from tests.servers import free_port

__all__ = ["digits_model_file", "digits_plugin", "held_out", "model_module", "registered_model"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("gradio") is None, reason="needs the gradio extra"),
]


def wait_for_page(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def test_uploading_a_digit_shows_its_class(
    browser,
    digits_plugin,
    registered_model,
    digits_model_file,
    model_module,
    held_out,
    synapse_home,
    tmp_path,
) -> None:
    predictor = model_module.load_predictor(digits_model_file)
    images, labels = held_out
    index = next(i for i, image in enumerate(images) if predictor.predict([image])[0]["class"] == labels[i])
    digit = tmp_path / "digit.png"
    images[index].save(digit)
    port = free_port()
    params = {"launch": True, "port": port, "model": registered_model["id"]}
    env = {"SYNAPSE_HOME": str(synapse_home), "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    started = run_cli("plugin", "run", "gradio", json.dumps(params), "--job-id", "digits-page",
                      cwd=digits_plugin, env=env)  # fmt: skip
    assert started.returncode == 0, started.stderr
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_page(url)
        page = browser.new_page()
        page.goto(url)
        page.locator("#upload input[type=file]").set_input_files(str(digit))
        shown = page.locator(f"#{CLASS_ELEMENT} textarea")
        deadline = time.monotonic() + 30
        while not shown.input_value() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert shown.input_value() == labels[index]
        page.close()
        record = job_get("digits-page", synapse_home)
        assert record["status"] == "RUNNING"
    finally:
        stopped = job_stop("digits-page", synapse_home)
    assert "STOPPED" in stopped
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=2)
    assert job_get("digits-page", synapse_home)["status"] == "STOPPED"
