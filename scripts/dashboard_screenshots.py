"""Take the dashboard's screenshots for docs/ (``docs/dashboard-*.png``) from a real server and Chromium.

Makes a throwaway SYNAPSE_HOME with a few real runs (one still training), a project whose task is
scikit-image's astronaut photo with a box on the face, and a model; serves it with
``synapse backend serve``; and photographs the runs page, a run's page and the task's page in
headless Chromium. Run: ``.venv/bin/python scripts/dashboard_screenshots.py``.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _dashboard import SYNAPSE, backend_server, chromium, logged_in  # noqa: E402

CONFIG = """\
code: digits-train
name: Digits trainer
version: 1.2.0
category: neural_net
actions:
  fit:
    entrypoint: plugin.fit.Fit
    method: job
"""
SOURCE = """\
import math
import time

from synapse_sdk.plugins.categories.base import Action


class Fit(Action):
    name = "fit"

    def start(self):
        epochs = int(self.params["epochs"])
        self.run.log_message(f"training on 1,797 digits for {epochs} epochs (lr={self.params['lr']})")
        for epoch in range(1, epochs + 1):
            for batch in range(1, 11):
                time.sleep(float(self.params["delay"]))
                self.run.set_progress((epoch - 1) * 10 + batch, epochs * 10, "training")
            loss = 2.3 * math.exp(-epoch / 6) + 0.05
            accuracy = round(1 - loss / 2.5, 4)
            self.run.set_metrics({"epoch": epoch, "loss": round(loss, 4), "accuracy": accuracy}, "training")
            self.run.log_message(f"epoch {epoch}: loss {loss:.4f}")
            if epoch == 3:
                self.run.log_message("learning rate lowered to 0.01", "WARNING")
        return {"accuracy": round(1 - loss / 2.5, 4)}
"""


def make_plugin(root: Path) -> Path:
    folder = root / "digits-plugin"
    (folder / "plugin").mkdir(parents=True)
    (folder / "plugin" / "__init__.py").write_text("")
    (folder / "config.yaml").write_text(CONFIG)
    (folder / "plugin" / "fit.py").write_text(textwrap.dedent(SOURCE))
    return folder


def make_project(home: Path) -> int:
    """The astronaut with a box on her face; returns the task's id."""
    from PIL import Image
    from skimage import data

    from synapse_sdk.backend.store import EmbeddedBackend

    backend = EmbeddedBackend(home / "synapse.db", home / "archives")
    image = home.parent / "astronaut.png"
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="PNG")
    image.write_bytes(buffer.getvalue())
    stored = backend.files.upload(image, name="astronaut.png", storage=None, meta={})
    spec = {
        "name": "image",
        "is_required": True,
        "is_primary": True,
        "file_type": "image",
        "extensions": [".png"],
    }
    collection = backend.resource("data_collections").create(
        {"name": "photos", "file_specifications": [spec]}
    )
    unit = backend.resource("data_units").create(
        {"data_collection": collection["id"], "files": {"image": {"data_file": stored["id"]}}}
    )
    project = backend.resource("projects").create(
        {
            "title": "Faces",
            "description": "Find every face.",
            "data_collection": collection["id"],
            "configuration": {"bounding_box": [{"name": "face"}]},
        }  # fmt: skip
    )
    box = {"id": "f1", "classification": "face", "attrs": [], "data": [177.0, 66.0, 95.0, 95.0]}
    annotation = {"classification": {"bounding_box": ["face"]}, "images": [{"bounding_box": [box]}]}
    task = backend.resource("tasks").create(
        {"project": project["id"], "data_unit": unit["id"], "data": annotation, "status": "completed"}
    )
    dataset = backend.resource("ground_truth_datasets").create({"name": "faces-gt", "project": project["id"]})
    backend.resource("ground_truth_dataset_versions").create({"dataset": dataset["id"], "version": "v1",
                                                              "is_frozen": True})  # fmt: skip
    backend.resource("models").create({"name": "face-detector", "plugin": "digits-train@1.2.0",
                                       "metrics": {"mAP": 0.81, "recall": 0.93}})  # fmt: skip
    return int(task["id"])


def clip(width: int, height: int) -> dict[str, float]:
    """The page's top left ``width`` x ``height`` pixels."""
    return {"x": 0, "y": 0, "width": width, "height": height}


def main() -> int:
    docs = ROOT / "docs"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        plugin = make_plugin(Path(tmp))
        task = make_project(home)
        env = {**os.environ, "SYNAPSE_HOME": str(home)}
        env.pop("SYNAPSE_HOST", None)

        def submit(job_id: str, **params: object) -> None:
            command = [SYNAPSE, "plugin", "run", "fit", json.dumps(params), "--job-id", job_id]
            subprocess.run(command, cwd=plugin, env=env, check=True, capture_output=True, timeout=120)

        for i, epochs in enumerate((4, 6, 5)):
            submit(f"digits-{i + 1}", epochs=epochs, lr=0.1, delay=0.005)
        time.sleep(4)
        submit("digits-live", epochs=12, lr=0.05, delay=0.12, api_key="sk-not-shown")
        with backend_server(home) as (url, token), chromium() as browser:
            context = logged_in(browser, url, token)
            page = context.new_page()
            page.goto(f"{url}/#/runs/digits-live")
            page.wait_for_function(
                "() => Number(document.querySelector(\"figure[data-metric='training/loss'] svg\")"
                "?.getAttribute('data-points')) >= 7",
                timeout=120_000,
            )
            page.screenshot(path=str(docs / "dashboard-run.png"), full_page=False)
            page.goto(f"{url}/#/runs")
            page.wait_for_selector("tr.run-row[data-run-id='digits-live']")
            page.screenshot(path=str(docs / "dashboard-runs.png"), clip=clip(1280, 360))
            page.goto(f"{url}/#/tasks/{task}")
            page.wait_for_selector(".annotated.big[data-boxes='1']")
            page.screenshot(path=str(docs / "dashboard-task.png"), clip=clip(560, 690))
            context.close()
    from PIL import Image

    for name in ("runs", "run", "task"):
        path = docs / f"dashboard-{name}.png"
        Image.open(path).convert("RGB").quantize(colors=192).save(path, optimize=True)  # small in the repo
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
