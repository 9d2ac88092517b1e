"""The ``pre_annotation`` action: prepare a folder of raw files for annotation."""

import json

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.pre_annotation import PreAnnotationAction as BasePreAnnotationAction

from .data_units import plugin_file, scan


class PreAnnotationParams(BaseModel):
    source_path: str = "sample_data/raw"
    extensions: list[str] = Field(default_factory=lambda: [".txt", ".jpg", ".png"], min_length=1)
    output_path: str = "outputs/data_units.json"


class PreAnnotationAction(BasePreAnnotationAction):
    name = "pre_annotation"
    params_model = PreAnnotationParams
    progress_categories = {"preprocessing": "Scanning and de-duplicating files"}

    def start(self):
        source = plugin_file(self.params["source_path"])
        self.run.log_message(f"Scanning {source}")
        self.run.set_progress(0, 2, "preprocessing")
        units, duplicates, ignored = scan(source, self.params["extensions"])
        self.run.set_progress(1, 2, "preprocessing")
        for duplicate in duplicates:
            self.run.log_message(
                f"{duplicate['file']}: duplicate of {duplicate['same_as']}, dropped", "WARNING"
            )
        output = plugin_file(self.params["output_path"])
        output.parent.mkdir(parents=True, exist_ok=True)
        manifest = {"source": str(source), "data_units": units, "duplicates": duplicates, "ignored": ignored}
        output.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        self.run.set_progress(2, 2, "preprocessing")
        self.run.set_metrics(
            {"data_units": len(units), "duplicates": len(duplicates), "ignored": len(ignored)},
            "preprocessing",
        )
        return {"status": "success", "data_units": len(units), "output_path": str(output)}
