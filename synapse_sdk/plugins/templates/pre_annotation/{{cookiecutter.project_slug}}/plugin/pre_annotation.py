"""The ``pre_annotation`` action: check a collection's photos and mark each data unit kept or dropped.

As generated it prepares the sample collection (``sample.py``: made on first use from
``sample_data/photos/``). The base action reads every data unit's image and drops unreadable
files, exact duplicates and near duplicates (dHash within ``near_duplicate_threshold`` bits),
stores photos with an EXIF orientation again upright (the original stays), and writes each
decision into the unit's ``meta.pre_annotation`` and ``pre_annotation_report.json`` in the run's
folder. This plugin adds one rule of its own in ``check_unit``: photos smaller than ``min_side``.

Prepare your own collection with ``{"data_collection": 3}``.
"""

from pydantic import Field
from synapse_sdk.plugins.categories.pre_annotation import PreAnnotationAction, PreAnnotationParams

from .sample import sample_collection


class SamplePreAnnotationParams(PreAnnotationParams):
    data_collection: int | None = Field(None, description="A data collection id; default: the sample one")
    min_side: int = Field(
        16, ge=1, description="Photos smaller than this (in pixels) are dropped as too_small"
    )


class PreAnnotation(PreAnnotationAction):
    """The base checks, plus photos smaller than ``min_side`` dropped as ``too_small``."""

    params_model = SamplePreAnnotationParams

    def check_unit(self, unit, image):
        if min(image.size) < self.params["min_side"]:
            return "too_small"
        return None

    def start(self):
        if self.params["data_collection"] is None:
            self.params = {**self.params, "data_collection": sample_collection(self.client, self.run)}
        return super().start()
