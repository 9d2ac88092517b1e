"""The ``export`` action: a ``BaseExporter`` that writes each item as COCO-style JSON.

``CocoExportAction`` reads the items (for now from the JSON/JSONL file named in
``filter.source``), then for every item runs ``before_convert`` -> ``convert_data`` ->
``after_convert`` and saves the result (and the original file) under
``<storage>/<path>/<name>/``, reporting progress as ``dataset_conversion``. Until storage
providers are connected, ``storage`` is a local folder, or an id ``N`` meaning the folder
``$SYNAPSE_HOME/storages/N``.

Left unset, ``filter`` exports the bundled sample_data/ground_truth.json and ``storage`` is the
run's folder. Paths the user passes are relative to the current folder (where they ran the
command), never to the plugin folder: a published release is read-only.
"""

import json
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from synapse_sdk.plugins.categories.export import BaseExporter, ExportAction, ExportParams

SAMPLE_ITEMS = Path(__file__).resolve().parents[1] / "sample_data" / "ground_truth.json"


class CocoExportParams(ExportParams):
    name: str = Field("sample_export", description="The export's folder, created in <storage>/<path>/")
    storage: int | str | None = Field(
        None,
        description="Where exports go: a storage id N ($SYNAPSE_HOME/storages/N) or a local folder "
        "(relative to the current folder). Default: the run's folder.",
    )
    target: Literal["assignment", "ground_truth", "task"] = Field(
        "ground_truth", description="What the items are"
    )
    filter: dict[str, Any] = Field(
        default_factory=dict,
        description='Which items: {"source": "items.json"} names a JSON list or JSONL file of items '
        "(relative to the current folder). Default: the bundled sample_data/ground_truth.json.",
    )
    output_format: Literal["coco", "raw"] = Field(
        "coco", description="coco: COCO images/annotations/categories; raw: each item's data as it is"
    )
    include_metadata: bool = Field(True, description="Add an info block (source id, target) to each file")


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

    @classmethod
    def as_action(cls):
        """The ``export`` action that runs this exporter: ``CocoExportAction``."""
        return CocoExportAction


class CocoExportAction(ExportAction):
    """``ExportAction`` with this plugin's defaults: the sample items, exported into the run's folder.

    It resolves ``filter.source`` and a folder ``storage`` against the current folder before the
    base action reads and writes them, so nothing is ever read from or written to a path relative
    to the plugin folder.
    """

    params_model = CocoExportParams
    exporter_class = Exporter

    def start(self):
        params = dict(self.params)
        if not params["filter"]:
            params["filter"] = {"source": str(SAMPLE_ITEMS)}
        elif params["filter"].get("source"):
            source = Path(params["filter"]["source"]).expanduser().resolve()
            params["filter"] = {**params["filter"], "source": str(source)}
        if params["storage"] is None:
            params["storage"] = str(self.run.path)
        elif isinstance(params["storage"], str):
            params["storage"] = str(Path(params["storage"]).expanduser().resolve())
        self.params = params
        return super().start()
