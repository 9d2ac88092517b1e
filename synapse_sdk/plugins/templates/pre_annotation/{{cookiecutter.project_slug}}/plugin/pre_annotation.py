"""The ``pre_annotation`` action: prepare a folder of raw files for annotation."""

import json

from pydantic import BaseModel, Field
from synapse_sdk.plugins.categories.pre_annotation import PreAnnotationAction as BasePreAnnotationAction

from .data_units import EXTENSIONS_HELP, SOURCE_PATH_HELP, scan, source_folder, user_path


class PreAnnotationParams(BaseModel):
    source_path: str | None = Field(None, description=SOURCE_PATH_HELP)
    extensions: list[str] = Field(
        default_factory=lambda: [".txt", ".jpg", ".png"], min_length=1, description=EXTENSIONS_HELP
    )
    output_path: str | None = Field(
        None,
        description="Where to write the data-unit manifest (relative to the current folder). "
        "Default: data_units.json in the run's folder.",
    )


class PreAnnotationAction(BasePreAnnotationAction):
    name = "pre_annotation"
    params_model = PreAnnotationParams
    progress_categories = {"preprocessing": "Scanning and de-duplicating files"}

    def start(self):
        source = source_folder(self.params["source_path"])
        self.run.log_message(f"Scanning {source}")
        self.run.set_progress(0, 2, "preprocessing")
        units, duplicates, ignored = scan(source, self.params["extensions"])
        self.run.set_progress(1, 2, "preprocessing")
        for duplicate in duplicates:
            self.run.log_message(
                f"{duplicate['file']}: duplicate of {duplicate['same_as']}, dropped", "WARNING"
            )
        given = self.params["output_path"]
        output = self.run.path / "data_units.json" if given is None else user_path(given)
        output.parent.mkdir(parents=True, exist_ok=True)
        manifest = {"source": str(source), "data_units": units, "duplicates": duplicates, "ignored": ignored}
        output.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        self.run.set_progress(2, 2, "preprocessing")
        self.run.set_metrics(
            {"data_units": len(units), "duplicates": len(duplicates), "ignored": len(ignored)},
            "preprocessing",
        )
        return {"status": "success", "data_units": len(units), "output_path": str(output)}
