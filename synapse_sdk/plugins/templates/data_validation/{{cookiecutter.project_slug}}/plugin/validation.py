"""The ``validation`` action: check a project's data and fail on errors, so a pipeline stops on bad data.

Run as generated, it checks a sample project: ``sample_data/`` (five small photos and their
COCO boxes) is imported on first use. Every task goes through the SDK's checks (files missing,
unreadable or changed in the storage; classes not in the project's configuration; boxes outside
the image or empty; duplicate boxes; required attributes; split leakage and class balance for
ground-truth versions) plus this plugin's own ``check_file_name``. Every problem is written to
``validation_report.json`` in the run's folder, with its item, field, severity and fix; an
error fails the run (exit 1) unless ``fail_on`` is ``never``; warnings only fail it with
``fail_on: warning``.

Check your own data with ``{"project": 3}`` or ``{"ground_truth_dataset_version": 7}``.
"""

from pathlib import Path

from pydantic import Field, model_validator
from synapse_sdk.plugins.categories.data_validation import ValidationAction, ValidationParams

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"
SAMPLE_PROJECT = "{{ cookiecutter.name }} sample"


class SampleParams(ValidationParams):
    project: int | None = Field(None, description="A project id; default: the sample project")

    @model_validator(mode="after")
    def _one_target(self):
        """No target means the sample project; both at once is refused as usual."""
        if self.project is None and self.ground_truth_dataset_version is None:
            return self
        return ValidationParams._one_target(self)


class Validation(ValidationAction):
    """The SDK's checks plus one of this plugin's: file names without spaces."""

    params_model = SampleParams
    item_checks = (*ValidationAction.item_checks, "file_name")

    def check_file_name(self, item, context):
        name = item.files.get("file_name_original") or ""
        if " " in name:
            yield item.problem(
                "file_name", "files", "warning", f"{name!r} has spaces", "rename it without spaces"
            )

    def start(self):
        params = self.params
        if params["project"] is None and params["ground_truth_dataset_version"] is None:
            self.params = {**params, "project": self.sample_project()}
        return {**super().start(), "project": self.params["project"]}

    def sample_project(self):
        """The sample project's id, imported from sample_data/ on first use."""
        from synapse_sdk.clients.backend.imports import import_coco

        report = import_coco(
            self.client, SAMPLE_DATA / "images", SAMPLE_DATA / "instances.json", project=SAMPLE_PROJECT
        )
        return report.project
