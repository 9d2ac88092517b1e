"""Every example of the spec's export section runs as written, on a real embedded platform of real photos.

The examples live verbatim in ``snippets/export/``; a plugin's ``plugin/export.py`` is a snippet,
followed (where the spec leaves something to the author) by a marked supplement: the
``save_as_csv`` / ``save_as_xml`` Step 5 calls, the inputs of ``convert_to_coco_format``, the
``convert_to_yolo_format`` of Pattern 1. The CLI lines of Step 6 run through the real ``synapse``
against published releases, with the ids of the platform the test made for 1 / 123 / 456.
"""

from __future__ import annotations

import csv
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.errors import ParamsError
from synapse_sdk.plugins.testing import run_action
from tests.conftest import run_cli
from tests.plugins.categories.export_platform import EXPORT_CONFIG, PLAIN_EXPORTER, Platform, build_platform

SNIPPETS = Path(__file__).parent / "snippets" / "export"
NAMES = ["astronaut", "chelsea", "coffee", "rocket"]

# --- supplements: what the spec leaves to the author --------------------------------------------
COCO_INPUTS = """

# --- supplied by the test: the spec leaves the inputs of convert_to_coco_format to the author ---
SpecExporter = Exporter


class Exporter(SpecExporter):
    def before_convert(self, export_item):
        item = super().before_convert(export_item)
        if item is not None:
            boxes = item["data"]["images"][0]["bounding_box"]
            names = item["data"]["classification"]["bounding_box"]
            chelsea = item["files"]["file_name"] == "chelsea.jpg"
            item["data_type"] = "image_classification" if chelsea else "image_detection"
            item["annotations"] = [
                {"id": n, "image_id": item["id"], "category_id": names.index(box["classification"]) + 1,
                 "bbox": box["data"]}
                for n, box in enumerate(boxes, start=1)
            ]
        return item
"""
CSV_AND_XML = """

# --- supplied by the test: the spec calls save_as_csv and save_as_xml without defining them ---
import csv
import xml.etree.ElementTree as ET


def _boxes(result):
    return result["data"]["images"][0]["bounding_box"]


def save_as_csv(self, result, base_path, error_file_list):
    name = f"{Path(self.get_original_file_name(result['files'])).stem}.csv"
    with (base_path / name).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "class", "x", "y", "width", "height"])
        for box in _boxes(result):
            writer.writerow([box["id"], box["classification"], *box["data"]])
    self.run.export_log_json_file(result["id"], {"file_name": name}, ExportStatus.SUCCESS)
    return ExportStatus.SUCCESS


def save_as_xml(self, result, base_path, error_file_list):
    name = f"{Path(self.get_original_file_name(result['files'])).stem}.xml"
    metadata = str(self.params["include_metadata"])
    root = ET.Element("annotation", {"id": str(result["id"]), "metadata": metadata})
    for box in _boxes(result):
        ET.SubElement(root, "object", {"id": box["id"], "name": box["classification"]}).text = " ".join(
            str(v) for v in box["data"]
        )
    ET.ElementTree(root).write(base_path / name)
    self.run.export_log_json_file(result["id"], {"file_name": name}, ExportStatus.SUCCESS)
    return ExportStatus.SUCCESS


Exporter.save_as_csv = save_as_csv
Exporter.save_as_xml = save_as_xml
"""
YOLO = """

# --- supplied by the test: Pattern 1 leaves convert_to_yolo_format (and the task_type) to the author ---
def convert_to_yolo_format(self, data):
    width, height = data["files"]["width"], data["files"]["height"]
    lines = []
    for box in data["data"]["images"][0]["bounding_box"]:
        x, y, w, h = box["data"]
        lines.append(f"{box['classification']} {(x + w / 2) / width:.6f} {(y + h / 2) / height:.6f} "
                     f"{w / width:.6f} {h / height:.6f}")
    return {**data, "data": {"yolo": lines}}


Pattern1.convert_to_yolo_format = convert_to_yolo_format


class Exporter(Pattern1):
    def before_convert(self, export_item):
        export_item["task_type"] = "object_detection"
        return export_item
"""


@pytest.fixture(scope="module")
def photo_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from tests.clients.samples import write_samples

    return write_samples(tmp_path_factory.mktemp("photos"))


@pytest.fixture
def platform(photo_files: tuple[Path, Path], tmp_path: Path) -> Platform:
    images = tmp_path / "photos"
    shutil.copytree(photo_files[0], images)
    return build_platform(get_backend_client(), images, photo_files[1])


def plugin_with(make_plugin, source: str, code: str = "spec-export", entrypoint: str = "Exporter") -> Path:  # type: ignore[no-untyped-def]
    config = EXPORT_CONFIG.format(code=code).replace("plugin.export.Exporter", f"plugin.export.{entrypoint}")
    return make_plugin(config, {"export.py": source}, name=code)


def snippet(name: str) -> str:
    return (SNIPPETS / name).read_text()


def export(plugin: Path, home: Path, platform: Platform, check: bool = True, **params: object):  # type: ignore[no-untyped-def]
    base = {
        "name": "spec",
        "storage": platform.storage,
        "target": "task",
        "filter": {"project": platform.project},
        "save_original_file": False,
    }
    return run_action(plugin, "export", {**base, **params}, home=home, check=check)


def json_files(run) -> dict[str, object]:  # type: ignore[no-untyped-def]
    folder = Path(run.result["export_path"]) / "json"
    return {p.name: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def test_step_3_as_written_skips_empty_items_and_keeps_the_rest(make_plugin, platform, synapse_home):
    empty = platform.client.create_tasks([{"project": platform.project}])  # not annotated yet
    run = export(plugin_with(make_plugin, snippet("step3.py")), synapse_home, platform)

    assert (run.result["success"], run.result["skipped"], run.result["failed"]) == (4, 1, 0)
    files = json_files(run)
    assert sorted(files) == [f"{n}.json" for n in NAMES]  # the empty task's name was not taken
    assert files["astronaut.json"] == platform.tasks[0]["data"]
    assert empty[0]["data"] is None


def test_step_3_coco_conversion_with_its_inputs_supplied(make_plugin, platform, synapse_home):
    run = export(plugin_with(make_plugin, snippet("step3.py") + COCO_INPUTS), synapse_home, platform)

    files = json_files(run)
    astronaut = files["astronaut.json"]
    assert astronaut["images"] == [] and astronaut["categories"] == []
    assert [a["bbox"] for a in astronaut["annotations"]] == [
        [177, 66, 95, 95],
        [275, 340, 237, 172],
        [352, 2, 115, 278],
    ]
    assert astronaut["annotation_count"] == 3 and {a["area"] for a in astronaut["annotations"]} == {0}
    # convert_to_classification_format is not defined by the spec: that item fails, alone.
    assert (run.result["success"], run.result["failed"]) == (3, 1)
    errors = json.loads((Path(run.result["export_path"]) / "error_file_list.json").read_text())
    [[item, message]] = errors["json_file_name"]
    assert item == str(platform.tasks[1]["id"]) and "convert_to_classification_format" in message


def test_steps_2_and_5_custom_params_and_formats(make_plugin, platform, synapse_home):
    plugin = plugin_with(make_plugin, snippet("step5.py") + CSV_AND_XML)
    as_csv = export(plugin, synapse_home, platform, name="csv", output_format="csv")
    out = Path(as_csv.result["export_path"])
    assert sorted(p.name for p in out.iterdir()) == ["csv", "export_manifest.jsonl", "json"]
    with (out / "json" / "astronaut.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["id", "class", "x", "y", "width", "height"]
    assert rows[1] == ["b1", "face", "177.0", "66.0", "95.0", "95.0"]

    as_xml = export(
        plugin,
        synapse_home,
        platform,
        name="xml",
        extra_params={"output_format": "xml", "include_metadata": False},
    )
    tree = ET.parse(Path(as_xml.result["export_path"]) / "json" / "coffee.xml").getroot()
    assert tree.get("metadata") == "False" and [o.get("name") for o in tree] == ["cup", "spoon"]

    as_json = export(plugin, synapse_home, platform, name="json")
    assert json_files(as_json)["rocket.json"] == platform.tasks[3]["data"]
    assert [e["status"] for e in as_json.events("export_file")] == ["success"] * 4
    with pytest.raises(ParamsError, match="params.output_format: expected one of json, csv, xml"):
        export(plugin, synapse_home, platform, output_format="yaml")


def test_step_4_filters_run_against_the_platform(make_plugin, platform, synapse_home):
    plugin = plugin_with(make_plugin, PLAIN_EXPORTER)
    filters = {
        "ground_truth": {"ground_truth_dataset_version": platform.version, "expand": ["data"]},
        "assignment": {"project": platform.project, "status": "completed", "expand": ["data"]},
        "task": {
            "project": platform.project,
            "assignment": platform.assignments[2]["id"],
            "expand": ["data_unit", "assignment"],
        },
    }
    totals = {
        t: export(plugin, synapse_home, platform, name=t, target=t, filter=f).result["total"]
        for t, f in filters.items()
    }
    assert totals == {"ground_truth": 4, "assignment": 3, "task": 1}


def test_common_patterns(make_plugin, platform, synapse_home):
    patterns = snippet("patterns.py")
    yolo = export(plugin_with(make_plugin, patterns + YOLO, code="p1"), synapse_home, platform)
    assert json_files(yolo)["rocket.json"] == {"yolo": ["rocket 0.500000 0.626464 0.062500 0.667447"]}

    folders = export(
        plugin_with(make_plugin, patterns, code="p2", entrypoint="Pattern2"), synapse_home, platform
    )
    out = Path(folders.result["export_path"])
    assert {"train", "val", "test", "json"} <= {p.name for p in out.iterdir()}

    checked = export(
        plugin_with(make_plugin, patterns, code="p3", entrypoint="Pattern3"), synapse_home, platform
    )
    assert checked.result["success"] == 4


def test_best_practices(make_plugin, platform, synapse_home):
    practices = snippet("best_practices.py")
    tee_run = export(
        plugin_with(make_plugin, practices, code="b1", entrypoint="DataProcessing"),
        synapse_home,
        platform,
        save_original_file=True,
    )
    assert (tee_run.result["total"], tee_run.result["success"]) == (4, 4)
    assert len(list((Path(tee_run.result["export_path"]) / "origin_files").iterdir())) == 4

    dirs = export(
        plugin_with(make_plugin, practices, code="b2", entrypoint="FileManagement"), synapse_home, platform
    )
    assert (Path(dirs.result["export_path"]) / "custom_output").is_dir()


def test_step_6_cli_lines_with_published_plugins(make_plugin, platform, synapse_home):
    home = {"SYNAPSE_HOME": str(synapse_home)}
    for code, source in (("my-export-plugin", snippet("step3.py")), ("custom-coco-export", PLAIN_EXPORTER)):
        folder = plugin_with(make_plugin, source, code=code)
        published = run_cli("plugin", "publish", cwd=folder, env=home)
        assert published.returncode == 0, published.stderr
    # --- spec (ids of this platform for 1 / 123 / 456) ---
    first = f"""{{
"name": "my_export",
"storage": {platform.storage},
"target": "ground_truth",
"filter": {{"ground_truth_dataset_version": {platform.version}}},
"path": "exports/ground_truth",
"save_original_file": true
}}"""
    second = f"""{{
"name": "assignment_export",
"storage": {platform.storage},
"target": "assignment",
"filter": {{"project": {platform.project}, "status": "completed"}},
"path": "exports/assignments",
"save_original_file": false,
"extra_params": {{
"output_format": "coco",
"include_metadata": true
}}
}}"""
    # --- end ---
    cwd = synapse_home.parent
    proc = run_cli("plugin", "run", "export", first, "--plugin", "my-export-plugin", cwd=cwd, env=home)
    assert proc.returncode == 0, proc.stderr
    out = synapse_home / "storages" / "default" / "exports" / "ground_truth" / "my_export"
    assert json.loads(proc.stdout)["export_path"] == str(out)
    assert sorted(p.name for p in (out / "origin_files").iterdir()) == [f"{n}.jpg" for n in NAMES]
    assert (out / "origin_files" / "coffee.jpg").read_bytes() == (platform.images / "coffee.jpg").read_bytes()

    proc = run_cli("plugin", "run", "export", second, "--plugin", "custom-coco-export", cwd=cwd, env=home)
    assert proc.returncode == 0, proc.stderr
    out = synapse_home / "storages" / "default" / "exports" / "assignments" / "assignment_export"
    coco = json.loads((out / "annotations" / "instances_default.json").read_text())
    assert len(coco["images"]) == 3 and not (out / "images").exists()
    assert [c["name"] for c in coco["categories"]] == ["face", "helmet", "rocket", "eye", "cup", "spoon"]
