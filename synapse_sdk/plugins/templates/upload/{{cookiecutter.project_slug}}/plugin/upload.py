"""The ``upload`` action: a ``BaseUploader`` that uploads photos with their captions as data units.

Run as generated, it uploads ``sample_data/`` (five small photos in ``image/``, a JSON caption
each in ``caption/``, and ``metadata.csv``: a row per photo) into the platform's default storage,
as data units of a sample data collection it creates on first use. Each data unit holds a photo
and its caption; its ``meta`` is the photo's metadata row plus its size, which ``process_files``
(this plugin's own step) measures.

Upload your own folder with ``{"path": "my_photos", "data_collection": 3}``: one sub-folder per
file specification of the collection (``my_photos/image/``, ``my_photos/caption/``), files grouped
into data units by name (``a.jpg`` + ``a.json``). Or give each specification its own folder with
``"use_single_path": false, "assets": {"image": {"path": "...", "is_recursive": true}, ...}``.
Files the storage holds already are not sent again: running an upload twice, or again after it
was interrupted, only sends what is missing.
"""

from pathlib import Path

from PIL import Image
from pydantic import Field, model_validator
from synapse_sdk.plugins.categories.upload import BaseUploader, UploadAction, UploadParams

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"
SAMPLE_COLLECTION = "{{ cookiecutter.name }} sample"
SAMPLE_SPECIFICATIONS = [
    {"name": "image", "file_type": "image", "is_required": True, "extensions": [".jpg", ".jpeg", ".png"]},
    {"name": "caption", "file_type": "json", "extensions": [".json"]},
]


class SampleUploadParams(UploadParams):
    name: str = Field("sample_upload", description="A name for this upload")
    data_collection: int | None = Field(
        None, description="A data collection id; default: the sample collection"
    )
    path: str | None = Field(None, description="The folder to upload; default: the bundled sample_data/")
    min_side: int = Field(1, ge=1, description="Photos smaller than this (in pixels) are left out")

    @model_validator(mode="after")
    def _one_mode(self):
        """No path means the sample data; anything else is checked as usual."""
        if self.use_single_path and self.path is None and not self.assets:
            return self
        return UploadParams._one_mode(self)


class Uploader(BaseUploader):
    """Measures each photo (its size goes into the data unit's meta) and leaves out tiny ones."""

    params_model = SampleUploadParams

    def process_files(self, files):
        for group in files:
            with Image.open(group["files"]["image"]) as image:
                group["meta"]["width"], group["meta"]["height"] = image.size
        return files

    def filter_files(self, organized_file):
        meta = organized_file["meta"]
        small = min(meta["width"], meta["height"]) < self.extra_params["min_side"]
        if small:
            self.run.log_message(f"{organized_file['files']['image'].name}: smaller than min_side, left out")
        return not small

    @classmethod
    def as_action(cls):
        """The ``upload`` action that runs this uploader: ``SampleUploadAction``."""
        return SampleUploadAction


class SampleUploadAction(UploadAction):
    """``UploadAction`` with this plugin's defaults: the sample data, into the sample collection."""

    params_model = SampleUploadParams
    uploader_class = Uploader

    def start(self):
        params = dict(self.params)
        if params["path"] is None and not params["assets"]:
            params["path"] = str(SAMPLE_DATA)
            params["excel_metadata_path"] = params["excel_metadata_path"] or str(SAMPLE_DATA / "metadata.csv")
        if params["data_collection"] is None:
            params["data_collection"] = self.sample_collection()
        self.params = params
        return super().start()

    def sample_collection(self):
        """The id of the sample data collection, created on first use."""
        found = self.client.list_data_collections({"name": SAMPLE_COLLECTION})["results"]
        if found:
            return found[0]["id"]
        created = self.client.create_data_collection(
            {"name": SAMPLE_COLLECTION, "file_specifications": SAMPLE_SPECIFICATIONS}
        )
        self.run.log_message(f"Created the data collection {SAMPLE_COLLECTION!r} ({created['id']})")
        return created["id"]
