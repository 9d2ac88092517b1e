"""The data platform's resources: one :class:`~synapse_sdk.backend.spec.ResourceSpec` each.

Each entry says what a resource holds (its input schema, in :mod:`synapse_sdk.backend.schemas`),
its defaults, which fields are JSON, filters, change, refer to other resources, and which
checks (:mod:`synapse_sdk.backend.checks`) its inputs pass. :data:`RESOURCES` lists them in the
order in which they depend on each other; every layer (embedded store, HTTP routes, HTTP
client) is built from it.
"""

from __future__ import annotations

from typing import Any

from synapse_sdk.backend import checks, schemas
from synapse_sdk.backend.bulk import bulk_write
from synapse_sdk.backend.checks import public_storage, unit_checksum
from synapse_sdk.backend.schemas import FILE_TYPES, TASK_STATUSES
from synapse_sdk.backend.spec import ItemName, ResourceSpec

#: The specs, and the names callers import from here (defined in ``spec``, ``bulk``, ``checks``, ``schemas``).
__all__ = [
    "ASSIGNMENTS",
    "DATA_COLLECTIONS",
    "DATA_FILES",
    "DATA_UNITS",
    "FILE_TYPES",
    "GROUND_TRUTH_DATASETS",
    "GROUND_TRUTH_EVENTS",
    "GROUND_TRUTH_VERSIONS",
    "MODELS",
    "PROJECTS",
    "RESOURCES",
    "STORAGES",
    "TASKS",
    "TASK_STATUSES",
    "ItemName",
    "ResourceSpec",
    "bulk_write",
    "public_storage",
    "unit_checksum",
]


def _spec(name: str, singular: str, schema: type, **kwargs: Any) -> ResourceSpec:
    fields = tuple(schema.__annotations__)
    return ResourceSpec(name=name, singular=singular, schema=schema, fields=fields, **kwargs)


STORAGES = _spec(
    "storages", "storage", schemas.StorageIn,
    defaults={"configuration": {}, "is_default": False},
    json_fields=frozenset({"configuration"}), bool_fields=frozenset({"is_default"}),
    filters=("name", "provider", "is_default"), updatable=("name", "configuration", "is_default"),
    checks=(checks.check_storage_configuration,), exclusive=("is_default",), on_update=checks.keep_secrets,
    present=checks.public_storage,
)  # fmt: skip
DATA_COLLECTIONS = _spec(
    "data_collections", "data collection", schemas.DataCollectionIn,
    defaults={"description": "", "file_specifications": []},
    json_fields=frozenset({"file_specifications"}), filters=("name",),
    updatable=("name", "description", "file_specifications"), checks=(checks.check_file_specifications,),
)  # fmt: skip
DATA_FILES = _spec(
    "data_files", "data file", schemas.DataFileIn,
    defaults={"mime_type": None, "name": "", "meta": {}},
    json_fields=frozenset({"meta"}), filters=("storage", "checksum", "path", "id"), updatable=("meta",),
    extra_filters={"id": schemas.Id}, references={"storage": "storages"}, checks=(checks.check_path,),
)  # fmt: skip
DATA_UNITS = _spec(
    "data_units", "data unit", schemas.DataUnitIn,
    defaults={"meta": {}, "checksum": None},
    json_fields=frozenset({"files", "meta"}), filters=("data_collection", "checksum", "id"),
    extra_filters={"id": schemas.Id}, updatable=("meta", "files"),
    references={"data_collection": "data_collections"}, checks=(checks.fill_unit_checksum,),
)  # fmt: skip
PROJECTS = _spec(
    "projects", "project", schemas.ProjectIn,
    defaults={"description": "", "data_collection": None, "configuration": {}},
    json_fields=frozenset({"configuration"}), filters=("title", "data_collection"),
    updatable=("title", "description", "configuration"), references={"data_collection": "data_collections"},
)  # fmt: skip
TASKS = _spec(
    "tasks", "task", schemas.TaskIn,
    defaults={"data_unit": None, "status": "pending", "data": None, "tags": [], "predictions": []},
    json_fields=frozenset({"data", "tags", "predictions"}),
    filters=("project", "status", "data_unit", "assignment"), extra_filters={"assignment": schemas.Id},
    updatable=("status", "data", "tags", "predictions"),
    references={"project": "projects", "data_unit": "data_units"},
    has_updated_at=True, checks=(checks.check_annotations, checks.check_predictions),
)  # fmt: skip
ASSIGNMENTS = _spec(
    "assignments", "assignment", schemas.AssignmentIn,
    defaults={"status": "pending", "annotator": None, "data": None, "started_at": None, "submitted_at": None},
    json_fields=frozenset({"data"}), filters=("project", "status", "task", "annotator"),
    updatable=("status", "annotator", "data", "started_at", "submitted_at"),
    references={"project": "projects", "task": "tasks"}, checks=(checks.check_annotations,),
)  # fmt: skip
GROUND_TRUTH_DATASETS = _spec(
    "ground_truth_datasets", "ground-truth dataset", schemas.GroundTruthDatasetIn,
    defaults={"project": None, "description": ""}, json_fields=frozenset(),
    filters=("project", "name"), updatable=("name", "description"), references={"project": "projects"},
)  # fmt: skip
GROUND_TRUTH_VERSIONS = _spec(
    "ground_truth_dataset_versions", "ground-truth dataset version", schemas.GroundTruthVersionIn,
    defaults={"is_frozen": False}, json_fields=frozenset(), bool_fields=frozenset({"is_frozen"}),
    filters=("dataset", "is_frozen", "version"), updatable=("is_frozen",),
    references={"dataset": "ground_truth_datasets"},
)  # fmt: skip
GROUND_TRUTH_EVENTS = _spec(
    "ground_truth_events", "ground-truth event", schemas.GroundTruthEventIn,
    defaults={"data_unit": None, "data": None, "split": "train"},
    json_fields=frozenset({"data"}), filters=("ground_truth_dataset_version", "split", "data_unit"),
    updatable=("data", "split"),
    references={"ground_truth_dataset_version": "ground_truth_dataset_versions", "data_unit": "data_units"},
    checks=(checks.check_annotations,),
)  # fmt: skip
MODELS = _spec(
    "models", "model", schemas.ModelIn,
    defaults={
        "plugin": None, "run": None, "file": None, "checksum": None, "configuration": {}, "metrics": {},
    },
    json_fields=frozenset({"configuration", "metrics"}), filters=("name", "run", "plugin"),
    updatable=("name", "configuration", "metrics"), references={"run": "runs", "file": "data_files"},
)  # fmt: skip

#: Every platform resource, by name (the order in which they depend on each other).
RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (
        STORAGES, DATA_COLLECTIONS, DATA_FILES, DATA_UNITS, PROJECTS, TASKS, ASSIGNMENTS,
        GROUND_TRUTH_DATASETS, GROUND_TRUTH_VERSIONS, GROUND_TRUTH_EVENTS, MODELS,
    )
}  # fmt: skip
