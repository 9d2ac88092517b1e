"""Training data from the platform: the images and image-level labels of a frozen ground-truth version.

A classification label is the image's one tag (``images[0].tags``, our DM v2 extension: see
``docs/annotation-format.md``). ``load_ground_truth`` reads the events of a version through the
client (``list_ground_truth_events``), their data units (``list_data_units``) and image bytes
(``open_data_file``), so it works the same against the embedded platform and over HTTP.

Which version: ``dataset`` is a ground-truth dataset id (its newest frozen version), a dataset
name (the same), or ``{"version": <id>}`` (that version, which must be frozen).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ParamsError

if TYPE_CHECKING:
    from PIL import Image

    from synapse_sdk.clients.backend import BackendClient

#: A ``dataset`` param: a dataset id or name, or ``{"version": id}``.
DatasetRef = int | str | Mapping[str, int]
#: A ``splits`` param: role -> split name (``{"train": "train", "val": "val"}``), or the split names.
SplitsRef = Mapping[str, str] | Sequence[str]
#: Data units asked for per listing (ids in the query string stay short over HTTP).
UNITS_PER_QUERY = 100


@dataclass
class GroundTruth:
    """The labelled images of one ground-truth version, per role (``train``, ``val``, ``test``...).

    ``classes`` are the sorted class names of the whole version (every split), so a model
    trained on one split numbers the classes as a test on another does.
    """

    dataset: dict[str, Any]
    version: dict[str, Any]
    classes: list[str]
    splits: dict[str, list[tuple[Image.Image, str]]] = field(default_factory=dict)

    def images(self, role: str) -> list[Image.Image]:
        """The images of a role, in the version's order."""
        return [image for image, _ in self.splits[role]]

    def labels(self, role: str) -> list[str]:
        """The class names of a role's images."""
        return [label for _, label in self.splits[role]]

    def label_ids(self, role: str) -> list[int]:
        """The index in ``classes`` of each of a role's labels."""
        index = {name: number for number, name in enumerate(self.classes)}
        return [index[label] for _, label in self.splits[role]]

    def describe(self) -> dict[str, Any]:
        """What was read, for a run's log and result: ids, version label, classes, images per role."""
        return {
            "dataset": self.dataset["id"],
            "version": self.version["id"],
            "version_label": self.version["version"],
            "classes": self.classes,
            "images": {role: len(items) for role, items in self.splits.items()},
        }


def normalize_splits(splits: SplitsRef) -> dict[str, str]:
    """``["train", "val"]`` -> ``{"train": "train", "val": "val"}``; a mapping is kept (role -> split)."""
    if isinstance(splits, Mapping):
        return {str(role): str(name) for role, name in splits.items()}
    if isinstance(splits, str):
        return {splits: splits}
    return {str(name): str(name) for name in splits}


def resolve_version(client: BackendClient, dataset: DatasetRef) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ground-truth dataset and the frozen version that ``dataset`` names; ``ParamsError`` if none."""
    from synapse_sdk.errors import ResourceNotFound

    if isinstance(dataset, Mapping):
        if set(dataset) != {"version"} or isinstance(dataset["version"], bool):
            raise ParamsError(f"params.dataset: expected {{'version': <id>}}, got {dict(dataset)!r}")
        try:
            version = client.get_ground_truth_version(int(dataset["version"]))
        except ResourceNotFound:
            raise ParamsError(
                f"params.dataset: no ground-truth version {dataset['version']}; "
                "see `synapse data import ... --ground-truth NAME` for the id it made"
            ) from None
        if not version["is_frozen"]:
            raise ParamsError(
                f"params.dataset: ground-truth version {version['id']} is not frozen; freeze it, or train on "
                "a frozen version so that the model's data cannot change under it"
            )
        return client.get_ground_truth_dataset(int(version["dataset"])), version
    found = _dataset(client, dataset)
    rows, _ = client.list_ground_truth_versions({"dataset": found["id"], "is_frozen": True}, list_all=True)
    frozen = sorted(rows, key=lambda row: row["id"])
    if not frozen:
        raise ParamsError(
            f"params.dataset: ground-truth dataset {found['name']!r} (id {found['id']}) has no frozen "
            "version; import one with `synapse data import imagefolder FOLDER --ground-truth NAME`"
        )
    return found, frozen[-1]


def _dataset(client: BackendClient, dataset: int | str) -> dict[str, Any]:
    from synapse_sdk.errors import ResourceNotFound

    if isinstance(dataset, bool) or not isinstance(dataset, int | str):
        raise ParamsError(
            f"params.dataset: expected a dataset id, a name or {{'version': <id>}}, got {dataset!r}"
        )
    if isinstance(dataset, int):
        try:
            return client.get_ground_truth_dataset(dataset)
        except ResourceNotFound:
            pass
    else:
        page = client.list_ground_truth_datasets({"name": dataset})
        if page["results"]:
            return dict(page["results"][0])
    raise ParamsError(
        f"params.dataset: no ground-truth dataset {dataset!r}; import one with "
        "`synapse data import imagefolder FOLDER --project P --ground-truth NAME`, then pass its id or name"
    )


def event_label(event: Mapping[str, Any]) -> str:
    """An event's image-level class: its image's one tag; ``ParamsError`` naming the event otherwise."""
    data = event.get("data") or {}
    images = data.get("images") or [{}]
    names = list(dict.fromkeys(tag.get("classification") for tag in images[0].get("tags") or []))
    if len(names) != 1 or not isinstance(names[0], str):
        raise ParamsError(
            f"ground-truth event {event.get('id')}: expected one image-level tag (images[0].tags), found "
            f"{len(names)}; a classification model trains on images with exactly one tag"
        )
    return names[0]


def load_ground_truth(
    client: BackendClient,
    dataset_or_version: DatasetRef,
    splits: SplitsRef = ("train", "val"),
) -> GroundTruth:
    """The images and labels of the roles in ``splits``, read from a frozen ground-truth version.

    ``splits`` maps each role to the version's split it reads (``{"train": "train", "val": "val"}``),
    or lists split names read under their own name. A split with no events is a ``ParamsError``.
    """
    dataset, version = resolve_version(client, dataset_or_version)
    wanted = normalize_splits(splits)
    events, _ = client.list_ground_truth_events(
        {"ground_truth_dataset_version": version["id"]}, list_all=True
    )
    by_split: dict[str, list[tuple[int, str]]] = {}
    classes: set[str] = set()
    for event in events:
        label = event_label(event)
        classes.add(label)
        if event["data_unit"] is not None:
            by_split.setdefault(event["split"], []).append((int(event["data_unit"]), label))
    truth = GroundTruth(dataset=dataset, version=version, classes=sorted(classes))
    for role, split in wanted.items():
        items = by_split.get(split, [])
        if not items:
            present = ", ".join(sorted(by_split)) or "none"
            raise ParamsError(
                f"params.splits.{role}: version {version['id']} has no images in split {split!r} "
                f"(it has: {present})"
            )
        images = _images(client, [unit for unit, _ in items])
        truth.splits[role] = [(images[unit], label) for unit, label in items]
    return truth


def _images(client: BackendClient, units: Sequence[int]) -> dict[int, Image.Image]:
    """The primary image of each data unit, decoded (read from the platform's storage)."""
    from PIL import Image

    images: dict[int, Image.Image] = {}
    for start in range(0, len(units), UNITS_PER_QUERY):
        chunk = list(units[start : start + UNITS_PER_QUERY])
        rows, _ = client.list_data_units({"id": chunk}, list_all=True)
        for unit in rows:
            with client.open_data_file(_primary_file(unit)) as stream:
                image = Image.open(io.BytesIO(stream.read()))
                image.load()
            images[int(unit["id"])] = image
    return images


def _primary_file(unit: Mapping[str, Any]) -> int:
    """The data file of a unit's image (its first file: imports give an image unit one file)."""
    files: Iterable[Mapping[str, Any]] = (unit.get("files") or {}).values()
    for entry in files:
        if entry.get("data_file") is not None:
            return int(entry["data_file"])
    raise ParamsError(f"data unit {unit.get('id')}: has no file to read an image from")
