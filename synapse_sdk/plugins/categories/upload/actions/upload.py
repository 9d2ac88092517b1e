"""The ``upload`` base action of the ``upload`` category."""

from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.categories.base import Action


class UploadAction(Action):
    """Upload files to a storage provider. Subclass it and implement ``start()``."""

    name = "upload"
    category = Category.UPLOAD
    method = "job"
    is_category_base = True
