"""``PreAnnotationParams`` and ``PreAnnotationAction``: prepare a collection's data units for annotation.

Params::

    {"data_collection": 3, "near_duplicate_threshold": 6, "fix_orientation": true, "max_side": 2048}

Each data unit's image (the collection's primary image specification, or ``spec``) is read from
its storage and decided on, in id order (the work is ``scan.py``):

* **unreadable**: Pillow cannot verify or fully decode it (corrupt, truncated, not an image);
* **duplicate**: the same file (sha256) or the same pixels as an earlier unit's image;
* **near_duplicate**: its dHash is within ``near_duplicate_threshold`` bits of a kept image's
  (a resized or recompressed copy); ``-1`` turns the check off;
* the plugin's own rule, :meth:`PreAnnotationAction.check_unit`, returning a reason;
* otherwise **kept**; an image with an EXIF orientation (or larger than ``max_side``) is stored
  again upright (and smaller) as a new data file beside the original, which is never touched.

The decision goes into the unit's ``meta.pre_annotation`` (``{"status": "kept" | "dropped",
"reason", "duplicate_of", "distance", "run"}``; ``to_task`` selects on it) and, one entry per unit,
into ``pre_annotation_report.json`` in the run's folder. No file is deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.categories.extra_params import validate_lifting_extra_params

if TYPE_CHECKING:
    from PIL import Image


class PreAnnotationParams(BaseModel):
    """Which collection to prepare, and how strict the checks are."""

    data_collection: int = Field(description="the data collection whose data units are checked")
    spec: str | None = Field(None, description="the image file specification; default: the primary one")
    near_duplicate_threshold: int = Field(
        6,
        ge=-1,
        le=32,
        description="dHash bits two images may differ by and still be near duplicates; -1: off",
    )
    fix_orientation: bool = Field(True, description="store images with an EXIF orientation upright")
    max_side: int | None = Field(None, ge=16, description="store larger images again, shrunk to this side")
    storage: int | None = Field(None, description="where fixed images go; default: the original's storage")
    extra_params: dict[str, Any] = Field(default_factory=dict)


class PreAnnotationAction(Action):
    """Check, de-duplicate and fix a collection's images; mark each data unit kept or dropped.

    Override :meth:`check_unit` to add a rule of your own::

        from synapse_sdk.plugins.categories.pre_annotation import PreAnnotationAction

        class PreAnnotation(PreAnnotationAction):
            def check_unit(self, unit, image):
                if min(image.size) < 64:
                    return "too_small"  # the unit is dropped with this reason
                return None
    """

    name = "pre_annotation"
    category = Category.PRE_ANNOTATION
    method = "job"
    is_category_base = True
    params_model = PreAnnotationParams
    progress_categories = {
        "scan": "Reading and checking the images",
        "mark": "Writing the decisions to the data units",
    }

    def check_unit(self, unit: dict[str, Any], image: Image.Image) -> str | None:
        """The plugin's own rule for a readable, not duplicated image: a reason to drop the unit
        (``"too_small"``), or None to keep it. ``image`` is upright; don't change it. Default: keep."""
        return None

    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> BaseModel | None:
        """Validate params; ``extra_params`` keys that are fields of a subclassed params model are
        validated as those fields (as export's and upload's)."""

        def validate(lifted: dict[str, Any]) -> BaseModel | None:
            return super(PreAnnotationAction, cls).validate_params(lifted)

        return validate_lifting_extra_params(validate, cls.params_model, PreAnnotationParams, params)

    def start(self) -> Any:
        """Decide on every data unit of the collection, mark them, write the report; the summary."""
        from synapse_sdk.plugins.categories.pre_annotation.scan import Scan

        return Scan(self).execute()
