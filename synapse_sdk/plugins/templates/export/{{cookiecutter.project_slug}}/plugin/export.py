"""The ``export`` action: a ``BaseExporter`` that writes each annotated image as a small JSON record.

Run as generated, it exports a sample project: ``sample_data/`` (five small photos and their
COCO boxes) is imported into the platform on first use (a project, its tasks and a frozen
ground-truth version; importing again reuses them), and that version is exported into the
platform's default storage, under ``<storage>/exports/<name>/``: ``json/<image>.json`` per
annotated image, ``origin_files/<image>`` and ``summary.json`` (objects per class).

Export your own items with a ``target`` and its ``filter``, e.g.
``{"target": "task", "filter": {"project": 3, "status": "completed"}}`` or
``{"target": "ground_truth", "filter": {"ground_truth_dataset_version": 7}}``.
``extra_params.output_format`` picks the output: ``json`` (this file's ``convert_data``) or a
dataset format the SDK writes: ``coco``, ``yolo``, ``voc``, ``imagefolder``. An export never
overwrites another (``name(1)``...); ``resume: true`` continues one a killed run left half-done;
``dry_run: true`` says what would be exported and writes nothing.
"""

import json
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from synapse_sdk.plugins.categories.export import BaseExporter, ExportAction, ExportParams

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"
SAMPLE_PROJECT = "{{ cookiecutter.name }} sample"


class SampleExportParams(ExportParams):
    name: str = Field("sample_export", description="The export's folder, made in <storage>/<path>/")
    storage: int | str | None = Field(None, description="A platform storage id; default: the default storage")
    target: Literal["assignment", "ground_truth", "task", "local"] = Field(
        "ground_truth", description="What to export: assignments, tasks or a ground-truth version's items"
    )
    filter: dict[str, Any] = Field(
        default_factory=dict,
        description="Which items of the target (see the module docstring); empty: the sample project",
    )
    include_empty: bool = Field(False, description="Export images without annotations too")

    @model_validator(mode="after")
    def _filter_fits_target(self):
        """An empty ground-truth filter means the sample project; any other is checked as usual."""
        if not self.filter and self.target == "ground_truth":
            return self
        return ExportParams._filter_fits_target(self)


def objects(annotation):
    """``[{"class", "bbox"}]``: the boxes of an item's (DM v2) annotation, of its first image."""
    images = (annotation or {}).get("images") or [{}]
    boxes = images[0].get("bounding_box", [])
    return [{"class": box["classification"], "bbox": box["data"]} for box in boxes]


class Exporter(BaseExporter):
    """One JSON record per annotated image: its file, size, split and boxes."""

    params_model = SampleExportParams

    def before_convert(self, export_item):
        if not self.params["include_empty"] and not objects(export_item["data"]):
            self.run.log_message(f"item {export_item['id']}: no boxes, skipped")
            return None
        return export_item

    def convert_data(self, data):
        if self.output_format != "json":
            return data  # the dataset formats read the DM v2 annotation itself
        files = data["files"]
        record = {
            "image": files["file_name"],
            "width": files["width"],
            "height": files["height"],
            "split": data.get("split"),
            "objects": objects(data["data"]),
        }
        return {"id": data["id"], "files": files, "data": record}

    def additional_file_saving(self, unique_export_path):
        """``summary.json``: how many objects of each class the JSON records hold."""
        if self.output_format != "json":
            return
        counts = Counter()
        for file in sorted((unique_export_path / "json").glob("*.json")):
            counts.update(o["class"] for o in json.loads(file.read_text(encoding="utf-8"))["objects"])
        summary = {"objects": dict(sorted(counts.items()))}
        (unique_export_path / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        if counts:
            self.run.set_metrics(dict(counts), "objects")

    @classmethod
    def as_action(cls):
        """The ``export`` action that runs this exporter: ``SampleExportAction``."""
        return SampleExportAction


class SampleExportAction(ExportAction):
    """``ExportAction`` with this plugin's defaults: the default storage, and the sample project."""

    params_model = SampleExportParams
    exporter_class = Exporter

    def start(self):
        params = dict(self.params)
        if params["storage"] is None:
            params["storage"] = self.client.get_default_storage()["id"]
        if not params["filter"] and params["target"] == "ground_truth":
            params["filter"] = {"ground_truth_dataset_version": self.sample_version()}
        self.params = params
        return super().start()

    def sample_version(self):
        """The ground-truth version of the sample project, imported from sample_data/ on first use."""
        from synapse_sdk.clients.backend.imports import import_coco

        report = import_coco(
            self.client,
            SAMPLE_DATA / "images",
            SAMPLE_DATA / "instances.json",
            project=SAMPLE_PROJECT,
            ground_truth=SAMPLE_PROJECT,
            val_fraction=0.25,
        )
        self.run.log_message(
            f"Sample project {SAMPLE_PROJECT!r}: ground-truth version {report.ground_truth_version}"
        )
        return report.ground_truth_version
