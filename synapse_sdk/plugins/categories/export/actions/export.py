"""``ExportParams`` and ``ExportAction``: the ``export`` base action, driving a ``BaseExporter``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, Field, field_validator

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter


class ExportParams(BaseModel):
    """What to export (``target`` + ``filter``), where (``storage`` + ``path``) and under which ``name``."""

    name: str
    storage: int | str
    target: Literal["assignment", "ground_truth", "task"]
    filter: dict[str, Any] = Field(default_factory=dict)
    path: str = "exports"
    save_original_file: bool = True
    extra_params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        if not value.strip() or value in (".", "..") or "/" in value or "\\" in value:
            raise ValueError(f"expected a folder name without '/' like 'my_export', got {value!r}")
        return value


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

    def start(self) -> Any:
        """Read the items, build the exporter and run its ``export()``."""
        from synapse_sdk.plugins.categories.export.targets import export_root, get_export_items
        from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

        items = get_export_items(self.params, self.plugin_path)
        root = export_root(self.params["storage"], self.params["path"], self.plugin_path)
        exporter_class = self.exporter_class or BaseExporter
        params = {**(self.params.get("extra_params") or {}), **self.params}
        exporter = exporter_class(self.run, items, root, **params)
        return exporter.export()
