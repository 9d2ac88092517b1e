"""``UploadParams`` and ``UploadAction``: the ``upload`` base action, driving a ``BaseUploader``.

Params, with the reference platform's names::

    {"name": "cars-2026-12", "storage": 1, "data_collection": 3, "path": "datasets/cars",
     "is_recursive": true, "excel_metadata_path": "datasets/cars/meta.xlsx"}

Single-path mode (the default) reads ``path/<spec name>/`` for each file specification of the
collection; multi-path mode (``use_single_path: false``) takes ``assets: {spec: {path,
is_recursive}}``, one folder per specification. Relative paths are relative to the plugin folder
(the current folder when there is none), as export's local paths. ``project`` also makes a task
per data unit. The work itself is ``upload/engine.py``; the checks against the platform are
``upload/target.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.categories.extra_params import validate_lifting_extra_params

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.upload.templates.plugin import BaseUploader


class AssetParams(BaseModel):
    """One specification's folder in multi-path mode."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, description="the folder holding this specification's files")
    is_recursive: bool = Field(True, description="include files in sub-folders")


class UploadParams(BaseModel):
    """What to upload (``path`` or ``assets``), into which ``storage`` and ``data_collection``."""

    name: str = Field(description="a name for this upload, shown in its run and summary")
    description: str | None = None
    storage: int | None = Field(None, description="a platform storage id; default: the default storage")
    data_collection: int = Field(description="the data collection the data units go into")
    project: int | None = Field(None, description="also create a task per data unit in this project")
    use_single_path: bool = Field(True, description="one folder with a sub-folder per specification")
    path: str | None = Field(None, description="single-path mode: the folder to upload")
    is_recursive: bool = Field(True, description="single-path mode: include files in sub-folders")
    assets: dict[str, AssetParams] | None = Field(
        None, description="multi-path mode: {spec name: {path, is_recursive}}"
    )
    excel_metadata_path: str | None = Field(
        None, description="an .xlsx or .csv file of metadata, one row per file name (or stem)"
    )
    max_file_size_mb: float = Field(50, gt=0, le=1_000_000, description="larger files fail, one by one")
    upload_batch_size: int = Field(200, ge=1, le=10_000, description="data units uploaded per batch")
    upload_max_workers: int = Field(8, ge=1, le=64, description="files hashed and sent at once")
    creating_data_unit_batch_size: int = Field(100, ge=1, le=10_000, description="data units per request")
    upload_max_retries: int = Field(3, ge=0, le=10, description="retries of a file after a transient error")
    extra_params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("expected a name like 'cars-2026-12', got an empty one")
        return value

    @field_validator("extra_params", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @model_validator(mode="after")
    def _one_mode(self) -> UploadParams:
        if self.use_single_path:
            if not self.path:
                raise ValueError(
                    "path: required in single-path mode; give a folder like 'datasets/cars' (with a "
                    "sub-folder per file specification), or use_single_path: false with assets"
                )
            if self.assets:
                raise ValueError(
                    "assets: only in multi-path mode; set use_single_path: false, or drop assets"
                )
        elif not self.assets:
            raise ValueError(
                "assets: required when use_single_path is false; give a folder per specification, like "
                "{'image': {'path': 'photos', 'is_recursive': true}}"
            )
        return self


class UploadAction(Action):
    """Upload files into a storage and a data collection with ``uploader_class`` (``BaseUploader``
    unless a plugin sets one); ``BaseUploader.as_action()`` binds a plugin's uploader to a subclass."""

    name = "upload"
    category = Category.UPLOAD
    method = "job"
    is_category_base = True
    params_model = UploadParams
    progress_categories = {
        "analyze": "Finding and checking the files",
        "upload": "Uploading files",
        "data_units": "Creating data units",
        "tasks": "Creating tasks",
    }
    uploader_class: ClassVar[type[BaseUploader] | None] = None

    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> BaseModel | None:
        """Validate params; ``extra_params`` keys that are fields of a subclassed params model are
        validated as those fields (as export's)."""
        from synapse_sdk.plugins.categories.upload.shards import num_shards

        def validate(lifted: dict[str, Any]) -> BaseModel | None:
            validated = super(UploadAction, cls).validate_params(lifted)
            num_shards(params)
            return validated

        return validate_lifting_extra_params(validate, cls.params_model, UploadParams, params, _mode_paths)

    def start(self) -> Any:
        """Check the params against the platform, find the files, run the uploader's hooks, upload."""
        from synapse_sdk.plugins.categories.upload.engine import upload
        from synapse_sdk.plugins.categories.upload.target import resolve_target
        from synapse_sdk.plugins.categories.upload.templates.plugin import BaseUploader

        target = resolve_target(self.client, self.params, self.plugin_path)
        return upload(self, target, self.uploader_class or BaseUploader)


def _mode_paths(message: str) -> str:
    """The mode's problems are found on the whole model: name them by their own key path."""
    return message.replace("params: path:", "params.path:").replace("params: assets:", "params.assets:")
