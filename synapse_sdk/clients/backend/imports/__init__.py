"""Import an annotated image set into the platform: its images become data units, tasks and ground truth.

:func:`import_coco` (what ``synapse data import coco`` runs) and :func:`import_folder` (YOLO,
VOC and ImageFolder folders: ``synapse data import yolo|voc|imagefolder``), both through
:func:`import_dataset`, check the whole input first, then
works through the images a batch at a time (upload, data units, tasks), so an import killed
half-way and started again carries on where it stopped and creates nothing twice:

- image bytes are stored by content: the same bytes give back the same data file;
- a data unit's identity is its image's checksum (``checksum``, unique per collection): a unit
  that exists is found and reused, each batch of new ones is created in one transaction;
- a project has one task per data unit: a task that exists is left as it is (an annotator may
  have worked on it since), only the missing ones are created, a batch per transaction;
- with ``ground_truth``, a dataset's open (unfrozen) version is taken to be an interrupted
  import's: its missing events are added and it is frozen. A frozen version holding exactly
  these items is reused; otherwise the next version number is created. An image keeps the
  split its dataset's layout gives it (YOLO, VOC, ImageFolder); the others are split by seed.

Missing image files are refused up front: nothing is imported and each one is named on its own
line with its image id in the dataset. With ``skip_missing=True`` they are skipped and counted
instead. A broken annotation always refuses the import (the labels need fixing), each on its line.
"""

from synapse_sdk.clients.backend.imports.coco import import_coco
from synapse_sdk.clients.backend.imports.dataset import import_dataset, import_folder
from synapse_sdk.clients.backend.imports.ground_truth import split_items
from synapse_sdk.clients.backend.imports.report import PHASES, ImportReport, ProgressCallback

__all__ = [
    "PHASES",
    "ImportReport",
    "ProgressCallback",
    "import_coco",
    "import_dataset",
    "import_folder",
    "split_items",
]
