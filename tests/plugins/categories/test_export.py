"""The export category: the spec's ``BaseExporter`` examples run as written, through a real plugin folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synapse_sdk.errors import ParamsError
from synapse_sdk.plugins.categories.export.actions.export import ExportAction, ExportParams
from synapse_sdk.plugins.categories.export.enums import ExportStatus
from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter
from synapse_sdk.plugins.loader import load_plugin
from synapse_sdk.plugins.testing import run_action
from synapse_sdk.plugins.utils import get_action_class

CONFIG = """\
code: spec-export
name: Spec Export
version: 1.0.0
category: export
actions:
  export:
    entrypoint: plugin.export.Exporter
    method: job
"""

ITEMS = [
    {
        "id": 1,
        "data_type": "image_detection",
        "files": {"file_name_original": "street_001.jpg"},
        "data": {"width": 640},
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 3, "bbox": [1, 2, 30, 40], "area": 1200},
            {"id": 11, "image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10]},
        ],
    },
    {
        "id": 2,
        "data_type": "other",
        "files": {"file_name_original": "park_002.jpg"},
        "data": {"labels": ["tree"]},
    },
    {"id": 3, "files": {"file_name_original": "empty_003.jpg"}, "data": None},
]

# Step 3 of the spec, verbatim.
STEP_3 = """
from datetime import datetime
from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

class Exporter(BaseExporter):
    \"\"\"Custom export plugin with COCO format conversion.\"\"\"

    def convert_data(self, data):
        \"\"\"Convert annotation data to your desired format.\"\"\"
        # Example: Convert to COCO format
        if data.get('data_type') == 'image_detection':
            return self.convert_to_coco_format(data)
        elif data.get('data_type') == 'image_classification':
            return self.convert_to_classification_format(data)
        return data

    def before_convert(self, export_item):
        \"\"\"Preprocess data before conversion.\"\"\"
        # Add validation, filtering, or preprocessing
        if not export_item.get('data'):
            return None  # Skip empty items

        # Add custom metadata
        export_item['processed_at'] = datetime.now().isoformat()
        return export_item

    def after_convert(self, converted_data):
        \"\"\"Post-process converted data.\"\"\"
        # Add final touches, validation, or formatting
        if 'annotations' in converted_data:
            converted_data['annotation_count'] = len(converted_data['annotations'])
        return converted_data

    def convert_to_coco_format(self, data):
        \"\"\"Example: Convert to COCO detection format.\"\"\"
        coco_data = {
            "images": [],
            "annotations": [],
            "categories": []
        }

        # Transform annotation data to COCO format
        for annotation in data.get('annotations', []):
            coco_annotation = {
                "id": annotation['id'],
                "image_id": annotation['image_id'],
                "category_id": annotation['category_id'],
                "bbox": annotation['bbox'],
                "area": annotation.get('area', 0),
                "iscrowd": 0
            }
            coco_data["annotations"].append(coco_annotation)

        return coco_data
"""

# Step 2 and Step 5 of the spec, verbatim (CustomExportParams bound with ``params_model``).
STEP_5 = """
import json
from pathlib import Path
from typing import Literal
from synapse_sdk.plugins.categories.export.actions.export import ExportParams
from synapse_sdk.plugins.categories.export.enums import ExportStatus
from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

class CustomExportParams(ExportParams):
    # Add custom parameters
    output_format: Literal['json', 'csv', 'xml'] = 'json'
    include_metadata: bool = True
    compression: bool = False

class Exporter(BaseExporter):
    \"\"\"Custom export plugin with multiple format support.\"\"\"
    params_model = CustomExportParams

    def save_as_json(self, result, base_path, error_file_list):
        \"\"\"Custom JSON saving with different formats.\"\"\"
        file_name = Path(self.get_original_file_name(result['files'])).stem

        # Choose output format based on params
        if self.params.get('output_format') == 'csv':
            return self.save_as_csv(result, base_path, error_file_list)
        elif self.params.get('output_format') == 'xml':
            return self.save_as_xml(result, base_path, error_file_list)

        # Default JSON handling
        json_data = result['data']
        file_info = {'file_name': f'{file_name}.json'}

        try:
            with (base_path / f'{file_name}.json').open('w', encoding='utf-8') as f:
                json.dump(json_data, f, indent=4, ensure_ascii=False)
            status = ExportStatus.SUCCESS
        except Exception as e:
            error_file_list.append([f'{file_name}.json', str(e)])
            status = ExportStatus.FAILED

        self.run.export_log_json_file(result['id'], file_info, status)
        return status

    def setup_output_directories(self, unique_export_path, save_original_file_flag):
        \"\"\"Custom directory structure.\"\"\"
        # Create format-specific directories
        output_paths = super().setup_output_directories(unique_export_path, save_original_file_flag)

        # Add custom directories based on output format
        format_dir = unique_export_path / self.params.get('output_format', 'json')
        format_dir.mkdir(parents=True, exist_ok=True)
        output_paths['format_output_path'] = format_dir

        return output_paths
"""

# The three "Common Export Patterns" and the best-practice overrides, verbatim.
PATTERN_1 = """
from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

class Exporter(BaseExporter):
    def convert_data(self, data):
        \"\"\"Convert to YOLO format.\"\"\"
        if data.get('task_type') == 'object_detection':
            return self.convert_to_yolo_format(data)
        return data

    def convert_to_yolo_format(self, data):  # the spec leaves this to the author
        return {**data, 'data': {'yolo': [f"0 {' '.join(map(str, b))}" for b in data['data']['boxes']]}}
"""

PATTERN_2 = """
from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

class Exporter(BaseExporter):
    def setup_output_directories(self, unique_export_path, save_original_file_flag):
        # Call parent method
        output_paths = super().setup_output_directories(unique_export_path, save_original_file_flag)

        # Create separate folders by category
        for category in ['train', 'val', 'test']:
            category_path = unique_export_path / category
            category_path.mkdir(parents=True, exist_ok=True)
            output_paths[f'{category}_path'] = category_path

        return output_paths
"""

PATTERN_3 = """
from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

class Exporter(BaseExporter):
    def before_convert(self, export_item):
        # Validate required fields
        required_fields = ['data', 'files', 'id']
        for field in required_fields:
            if field not in export_item:
                raise ValueError(f"Missing required field: {field}")
        return export_item
"""

BEST_PRACTICES = """
from itertools import tee
from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

class Exporter(BaseExporter):
    def export(self, export_items=None, results=None, **kwargs):
        \"\"\"Override the main export method for custom processing.\"\"\"
        # Use tee to count items without consuming generator
        items_to_process = export_items if export_items is not None else self.export_items
        export_items_count, export_items_process = tee(items_to_process)
        total = sum(1 for _ in export_items_count)

        # Custom processing with error handling
        for no, export_item in enumerate(export_items_process, start=1):
            try:
                # Use the built-in data conversion pipeline
                processed_item = self.process_data_conversion(export_item)
                self.run.set_progress(no, total, category='dataset_conversion')
            except Exception as e:
                self.run.log_message(f"Error processing item {no}: {str(e)}", "ERROR")
                continue

        # Call parent's export method for standard processing
        # or implement your own complete workflow
        return super().export(export_items, results, **kwargs)

    def setup_output_directories(self, unique_export_path, save_original_file_flag):
        \"\"\"Create unique export directory structure.\"\"\"
        # BaseExporter already handles unique path creation via _create_unique_export_path
        # This method sets up the internal directory structure
        output_paths = super().setup_output_directories(unique_export_path, save_original_file_flag)

        # Add custom subdirectories as needed
        custom_dir = unique_export_path / 'custom_output'
        custom_dir.mkdir(parents=True, exist_ok=True)
        output_paths['custom_output_path'] = custom_dir

        return output_paths
"""


def export_plugin(make_plugin, source: str, items: list[dict]) -> Path:  # type: ignore[no-untyped-def]
    folder = make_plugin(CONFIG, {"export.py": source})
    (folder / "items.json").write_text(json.dumps(items))
    return folder


def params(tmp_path: Path, **extra: object) -> dict[str, object]:
    return {
        "name": "spec", "storage": str(tmp_path / "storage"), "target": "local",
        "filter": {"source": "items.json"}, "path": "exports", "save_original_file": False, **extra,
    }  # fmt: skip


def read_json(path: Path) -> object:
    return json.loads(path.read_text())


def test_step_3_coco_conversion(make_plugin, tmp_path: Path) -> None:
    run = run_action(export_plugin(make_plugin, STEP_3, ITEMS), "export", params(tmp_path))

    assert run.succeeded
    out = Path(run.result["export_path"])
    assert out == tmp_path / "storage" / "exports" / "spec"
    coco = read_json(out / "json" / "street_001.json")
    assert [a["id"] for a in coco["annotations"]] == [10, 11]
    assert coco["annotation_count"] == 2
    assert coco["annotations"][1]["area"] == 0
    assert read_json(out / "json" / "park_002.json") == {"labels": ["tree"]}
    assert (run.result["success"], run.result["skipped"], run.result["failed"]) == (2, 1, 0)
    assert run.progress["dataset_conversion"] == {"current": 3, "total": 3, "percent": 100.0}
    assert [e["file_info"]["file_name"] for e in run.events("export_file")] == [
        "street_001.json",
        "park_002.json",
    ]


def test_step_5_custom_params_save_and_directories(make_plugin, tmp_path: Path) -> None:
    folder = export_plugin(make_plugin, STEP_5, ITEMS)
    run = run_action(folder, "export", params(tmp_path, output_format="json"))

    out = Path(run.result["export_path"])
    assert (out / "json").is_dir() and (out / "json" / "street_001.json").is_file()
    assert sorted(p.name for p in out.iterdir()) == ["export_manifest.jsonl", "json"]
    # The third item has no data: the spec's save_as_json writes it (null) rather than failing.
    assert read_json(out / "json" / "empty_003.json") is None
    assert all(e["status"] == "success" for e in run.events("export_file"))
    with pytest.raises(ParamsError, match="output_format"):
        run_action(folder, "export", params(tmp_path, output_format="yaml"))


def test_pattern_1_format_specific_conversion(make_plugin, tmp_path: Path) -> None:
    items = [{"id": 1, "task_type": "object_detection", "files": {"file_name_original": "a.jpg"},
              "data": {"boxes": [[0.5, 0.5, 0.1, 0.2]]}}]  # fmt: skip
    run = run_action(export_plugin(make_plugin, PATTERN_1, items), "export", params(tmp_path))

    assert read_json(Path(run.result["export_path"]) / "json" / "a.json") == {"yolo": ["0 0.5 0.5 0.1 0.2"]}


def test_pattern_2_folders_per_split(make_plugin, tmp_path: Path) -> None:
    run = run_action(export_plugin(make_plugin, PATTERN_2, ITEMS[:1]), "export", params(tmp_path))

    out = Path(run.result["export_path"])
    assert sorted(p.name for p in out.iterdir()) == ["export_manifest.jsonl", "json", "test", "train", "val"]


def test_pattern_3_a_bad_item_fails_alone(make_plugin, tmp_path: Path) -> None:
    items = [*ITEMS[:2], {"id": 9, "data": {"x": 1}}]
    run = run_action(export_plugin(make_plugin, PATTERN_3, items), "export", params(tmp_path))

    assert run.succeeded
    assert (run.result["success"], run.result["failed"]) == (2, 1)
    errors = read_json(Path(run.result["export_path"]) / "error_file_list.json")
    assert errors["json_file_name"] == [["9", "ValueError: Missing required field: files"]]
    assert any("Missing required field" in m for m in run.messages)


def test_best_practice_export_override(make_plugin, tmp_path: Path) -> None:
    run = run_action(export_plugin(make_plugin, BEST_PRACTICES, ITEMS[:2]), "export", params(tmp_path))

    out = Path(run.result["export_path"])
    assert (out / "custom_output").is_dir()
    assert run.result["total"] == 2 and run.result["success"] == 2


def test_original_files_are_copied_and_missing_ones_reported(make_plugin, tmp_path: Path) -> None:
    plain = "from synapse_sdk.plugins.categories.export import BaseExporter as Exporter\n"
    folder = export_plugin(make_plugin, plain, [
        {"id": 1, "files": {"file_name_original": "a.png", "path": "images/a.png"}, "data": {"k": 1}},
        {"id": 2, "files": {"file_name_original": "b.png", "path": "images/missing.png"}, "data": {"k": 2}},
    ])  # fmt: skip
    (folder / "images").mkdir()
    (folder / "images" / "a.png").write_bytes(b"\x89PNG fake bytes")
    run = run_action(folder, "export", params(tmp_path, save_original_file=True))

    out = Path(run.result["export_path"])
    assert (out / "origin_files" / "a.png").read_bytes() == b"\x89PNG fake bytes"
    assert (run.result["success"], run.result["failed"]) == (1, 1)
    assert read_json(out / "error_file_list.json")["origin_file_name"][0][0] == "b.png"


def test_exports_never_overwrite_and_never_escape(make_plugin, tmp_path: Path) -> None:
    folder = export_plugin(make_plugin, STEP_3, ITEMS)
    first = run_action(folder, "export", params(tmp_path))
    second = run_action(folder, "export", params(tmp_path))
    assert second.result["export_path"] == first.result["export_path"] + "(1)"

    escaped = run_action(folder, "export", params(tmp_path, path="../../outside"), check=False)
    assert escaped.status == "FAILED" and "leaves the storage root" in escaped.error
    assert not (tmp_path / "outside").exists()


def test_params_are_checked_at_the_door(make_plugin, tmp_path: Path) -> None:
    folder = export_plugin(make_plugin, STEP_3, ITEMS)
    with pytest.raises(ParamsError, match="params.target"):
        run_action(folder, "export", params(tmp_path, target="projects"))
    with pytest.raises(ParamsError, match="params.name"):
        run_action(folder, "export", params(tmp_path, name="../up"))
    with pytest.raises(ParamsError, match="params.filter.project: not a filter of target 'local'"):
        run_action(folder, "export", params(tmp_path, filter={"project": 456}))
    with pytest.raises(ParamsError, match="filter.project: required for target 'task'"):
        run_action(folder, "export", params(tmp_path, target="task", filter={}))


def test_the_exporter_is_the_action_through_the_loader(make_plugin) -> None:
    loaded = load_plugin(export_plugin(make_plugin, STEP_3, ITEMS))
    action = loaded.actions["export"]

    assert issubclass(action, ExportAction) and action.exporter_class.__name__ == "Exporter"
    assert action is action.exporter_class.as_action()
    assert get_action_class("export", "export") is ExportAction
    assert ExportStatus.SUCCESS == "success" and ExportStatus.FAILED == "failed"
    assert BaseExporter.params_model is ExportParams


def test_storages_are_local_folders_or_ids(make_plugin, tmp_path: Path, synapse_home: Path) -> None:
    folder = export_plugin(make_plugin, STEP_3, ITEMS[:1])

    relative = run_action(folder, "export", params(tmp_path, storage="out"))
    assert Path(relative.result["export_path"]) == folder.resolve() / "out" / "exports" / "spec"

    by_id = run_action(folder, "export", params(tmp_path, storage=1), home=synapse_home)
    assert Path(by_id.result["export_path"]) == synapse_home / "storages" / "default" / "exports" / "spec"
    missing = run_action(folder, "export", params(tmp_path, storage=7), home=synapse_home, check=False)
    assert missing.status == "FAILED" and "storage 7 does not exist" in missing.error
