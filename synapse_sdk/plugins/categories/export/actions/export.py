"""``ExportParams`` and ``ExportAction``: the ``export`` base action, driving a ``BaseExporter``.

Params, as the spec's examples give them::

    {"name": "my_export", "storage": 1, "target": "ground_truth",
     "filter": {"ground_truth_dataset_version": 123}, "path": "exports",
     "save_original_file": true, "extra_params": {"output_format": "coco"}}

``target`` + ``filter`` choose the items (see ``export/targets``); ``storage`` (a platform storage
id) + ``path`` + ``name`` the folder (``name(1)``... when taken: an export never overwrites
another); ``extra_params.output_format`` the format (``json`` per item by default, or ``coco``,
``yolo``, ``voc``, ``imagefolder``). ``resume: true`` continues the latest export of that name
where a killed run stopped; ``dry_run: true`` says what would be exported and writes nothing.
``extra_params.num_shards`` (1..256) splits the items across that many Ray tasks (``shards.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.categories.extra_params import validate_lifting_extra_params

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter


class ExportParams(BaseModel):
    """What to export (``target`` + ``filter``), where (``storage`` + ``path``) and under which ``name``."""

    name: str
    storage: int | str = Field(
        description="a platform storage id (local or S3), or a local folder (relative to the plugin folder)"
    )
    target: Literal["assignment", "ground_truth", "task", "local"]
    filter: dict[str, Any] = Field(default_factory=dict)
    path: str = "exports"
    save_original_file: bool = True
    extra_params: dict[str, Any] = Field(default_factory=dict)
    resume: bool = Field(False, description="continue the latest export of this name where it stopped")
    dry_run: bool = Field(False, description="say what would be exported, write nothing")

    @field_validator("name")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        if not value.strip() or value in (".", "..") or "/" in value or "\\" in value:
            raise ValueError(f"expected a folder name without '/' like 'my_export', got {value!r}")
        return value

    @model_validator(mode="after")
    def _filter_fits_target(self) -> ExportParams:
        from synapse_sdk.plugins.categories.export.targets import check_filter

        problems = check_filter(self.target, self.filter)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class ExportAction(Action):
    """Export items to a storage with ``exporter_class`` (``BaseExporter`` unless a plugin sets one).

    A plugin usually names its ``BaseExporter`` subclass as the entrypoint
    (``plugin.export.Exporter``); ``BaseExporter.as_action()`` binds it to a subclass of this.
    """

    name = "export"
    category = Category.EXPORT
    method = "job"
    is_category_base = True
    params_model = ExportParams
    progress_categories = {"dataset_conversion": "Converting and saving items"}
    exporter_class: ClassVar[type[BaseExporter] | None] = None

    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> BaseModel | None:
        """Validate params; ``extra_params`` keys that are fields of a subclassed params model
        (``output_format`` of the spec's ``CustomExportParams``) are validated as those fields."""
        from synapse_sdk.plugins.categories.export.shards import num_shards

        def validate(lifted: dict[str, Any]) -> BaseModel | None:
            validated = super(ExportAction, cls).validate_params(lifted)
            num_shards(params)
            return validated

        return validate_lifting_extra_params(validate, cls.params_model, ExportParams, params, _filter_paths)

    def start(self) -> Any:
        """Open the items and the destination, build the exporter and run its ``export()``."""
        from synapse_sdk.plugins.categories.export.output import resolve_destination
        from synapse_sdk.plugins.categories.export.targets import get_export_items
        from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter
        from synapse_sdk.settings import Settings

        params = self.params
        client = self.client if params["target"] != "local" or isinstance(params["storage"], int) else None
        items = get_export_items(params, client, self.plugin_path)
        destination = resolve_destination(
            params["storage"], params["path"], client=client, plugin_path=self.plugin_path,
            home=Settings.from_env().home,
        )  # fmt: skip
        exporter_class = self.exporter_class or BaseExporter
        merged = {**(params.get("extra_params") or {}), **params}
        exporter = exporter_class(self.run, items, destination.root, **merged)
        exporter.client = client
        exporter.destination = destination
        exporter.action = self
        if params.get("dry_run"):
            return exporter.plan()
        return exporter.export()


def _filter_paths(message: str) -> str:
    """The filter's problems are found on the whole model: name them by their own key path."""
    return message.replace("params: filter.", "params.filter.").replace("; filter.", "; params.filter.")
