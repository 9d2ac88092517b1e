"""The ``export`` action: a ``BaseExporter`` that writes each item as COCO-style JSON.

``ExportAction`` reads the items (for now from the JSON/JSONL file named in
``filter.source``), then for every item runs ``before_convert`` -> ``convert_data`` ->
``after_convert`` and saves the result (and the original file) under
``<storage>/<path>/<name>/``, reporting progress as ``dataset_conversion``. Until storage
providers are connected, ``storage`` is a local folder, or an id ``N`` meaning the folder
``$SYNAPSE_HOME/storages/N``.
"""

import json
from collections import Counter
from typing import Literal

from synapse_sdk.plugins.categories.export.actions.export import ExportParams
from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter


class CocoExportParams(ExportParams):
    output_format: Literal["coco", "raw"] = "coco"
    include_metadata: bool = True


class Exporter(BaseExporter):
    """Converts ``data.annotations`` (label + bbox) to COCO images/annotations/categories."""

    params_model = CocoExportParams

    def before_convert(self, export_item):
        if not export_item.get("data"):
            self.run.log_message(f"item {export_item.get('id')}: no annotation data, skipped", "WARNING")
            return None
        return export_item

    def convert_data(self, data):
        if self.params.get("output_format") == "raw":
            return data
        item = data["data"]
        labels = sorted({a["label"] for a in item.get("annotations", [])})
        categories = [{"id": n, "name": label} for n, label in enumerate(labels, start=1)]
        category_ids = {c["name"]: c["id"] for c in categories}
        image = {"id": data["id"], "file_name": self.get_original_file_name(data["files"])}
        image.update({k: item[k] for k in ("width", "height") if k in item})
        annotations = []
        for n, ann in enumerate(item.get("annotations", []), start=1):
            x, y, w, h = ann["bbox"]
            annotations.append(
                {
                    "id": n,
                    "image_id": data["id"],
                    "category_id": category_ids[ann["label"]],
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
        coco = {"images": [image], "annotations": annotations, "categories": categories}
        if self.params.get("include_metadata"):
            coco["info"] = {"source_id": data["id"], "target": self.params.get("target")}
        return {"id": data["id"], "files": data["files"], "data": coco}

    def after_convert(self, converted_data):
        data = converted_data["data"]
        if "annotations" in data:
            data["annotation_count"] = len(data["annotations"])
        return converted_data

    def additional_file_saving(self, unique_export_path):
        """Write a summary of label counts over every exported file."""
        counts = Counter()
        for file in sorted((unique_export_path / "json").glob("*.json")):
            data = json.loads(file.read_text(encoding="utf-8"))
            names = {c["id"]: c["name"] for c in data.get("categories", [])}
            counts.update(names[a["category_id"]] for a in data.get("annotations", []))
        (unique_export_path / "summary.json").write_text(json.dumps({"labels": counts}, indent=2) + "\n")
        if counts:
            self.run.set_metrics(dict(counts), "labels")
        self.run.log_message(f"Labels exported: {dict(counts)}")
