"""The platform pages in real headless Chromium: projects -> tasks with their boxes, ground truth,
models, plugins and releases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backend.dashboard.conftest import png_bytes
from tests.conftest import run_cli

BOXES = [
    {"id": "b1", "classification": "cat", "attrs": [], "data": [10.0, 20.0, 50.0, 40.0]},
    {"id": "b2", "classification": "<b>dog</b>", "attrs": [], "data": [100.0, 60.0, 30.0, 30.0]},
]


@pytest.fixture
def project(synapse_home: Path, tmp_path: Path) -> dict[str, int]:
    """A project with an image task (two boxes), a ground-truth version and a model (embedded store)."""
    from synapse_sdk.backend import get_backend

    backend = get_backend()
    image = tmp_path / "photo.png"
    image.write_bytes(png_bytes(160, 120))
    data_file = backend.files.upload(image, name="photo.png", storage=None, meta={})
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
        {"data_collection": collection["id"], "files": {"image": {"data_file": data_file["id"]}}}
    )
    project = backend.resource("projects").create({
        "title": "Pets <i>2026</i>", "data_collection": collection["id"],
        "configuration": {"bounding_box": [{"name": "cat"}, {"name": "dog"}]},
    })  # fmt: skip
    annotation = {
        "classification": {"bounding_box": ["cat", "<b>dog</b>"]},
        "images": [{"bounding_box": BOXES}],
    }
    task = backend.resource("tasks").create(
        {"project": project["id"], "data_unit": unit["id"], "data": annotation, "status": "completed"}
    )
    dataset = backend.resource("ground_truth_datasets").create({"name": "pets-gt", "project": project["id"]})
    backend.resource("ground_truth_dataset_versions").create(
        {"dataset": dataset["id"], "version": "v1", "is_frozen": True}
    )
    backend.resource("models").create({"name": "pet-detector", "metrics": {"mAP": 0.8123, "epochs": 12}})
    return {"project": project["id"], "task": task["id"]}


def test_a_project_shows_its_tasks_with_their_boxes_drawn(page, dash, project):
    page.goto(f"{dash.url}/#/projects")
    page.click("tr.project a")
    page.wait_for_selector("h1:text('Pets <i>2026</i>')")  # the title as text, not markup
    thumb = page.wait_for_selector(f"a.task[data-task-id='{project['task']}'] .annotated[data-boxes='2']")
    assert thumb.query_selector("img").evaluate("img => img.naturalWidth") == 160
    assert "version v1 (frozen)" in page.inner_text("li.gt-version")
    thumb.click()
    big = page.wait_for_selector(".annotated.big[data-boxes='2']")
    rects = big.query_selector_all("g.box rect")
    assert [(r.get_attribute("x"), r.get_attribute("width")) for r in rects] == [("10", "50"), ("100", "30")]
    # the boxes sit on the image: the first box's left edge is 10/160 of the shown width in
    shown = big.query_selector("img").bounding_box()
    left = rects[0].bounding_box()
    assert abs((left["x"] - shown["x"]) - shown["width"] * 10 / 160) < 3
    assert [i.inner_text() for i in page.query_selector_all("li.box-item")] == [
        "cat at [10, 20, 50, 40]", "<b>dog</b> at [100, 60, 30, 30]",
    ]  # fmt: skip
    assert page.locator("main b").count() == 0


def test_models_show_their_metrics(page, dash, project):
    page.goto(f"{dash.url}/#/models")
    row = page.wait_for_selector("tr.model")
    text = row.inner_text()
    assert "pet-detector" in text and "mAP" in text and "0.8123" in text


def test_plugins_list_their_releases(page, dash, slow_plugin, synapse_home):
    proc = run_cli("plugin", "publish", cwd=slow_plugin, env={"SYNAPSE_HOME": str(synapse_home)})
    assert proc.returncode == 0, proc.stderr
    page.goto(f"{dash.url}/#/plugins")
    card = page.wait_for_selector("section.plugin[data-code='slow-train']")
    assert "0.1.0" in card.query_selector("tr.release").inner_text()
    assert "count" in card.query_selector("tr.release").inner_text()
    card.query_selector("a:text('Runs of this plugin')").click()
    page.wait_for_selector("input[name=plugin]")
    assert page.input_value("input[name=plugin]") == "slow-train"
