"""The ground truth of an import: a frozen version of a dataset, its items split as the dataset's layout
says (YOLO, VOC and ImageFolder folders per split), else train/val by seed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from synapse_sdk.clients.backend.imports.images import SourceImage
from synapse_sdk.clients.backend.imports.lookup import find_or_create
from synapse_sdk.clients.backend.imports.report import ImportReport, ProgressCallback

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient


def add_ground_truth(
    client: BackendClient,
    name: str,
    report: ImportReport,
    kept: list[tuple[dict[str, Any], SourceImage]],
    val_fraction: float,
    seed: int,
    notify: ProgressCallback,
) -> None:
    """A frozen version of dataset ``name``: an event per data unit, split as its image's layout says,
    else train/val by ``seed``."""
    source = kept[0][1].format if kept else "COCO"
    item = {"name": name, "project": report.project, "description": f"Imported from {source}"}
    dataset = find_or_create(
        client.list_ground_truth_datasets, {"name": name}, lambda: client.create_ground_truth_dataset(item)
    )
    report.ground_truth_dataset = dataset["id"]
    splits = layout_splits(kept, val_fraction, seed)
    planned = {
        unit["id"]: {"data_unit": unit["id"], "data": image.data, "split": split}
        for (unit, image), split in zip(kept, splits, strict=True)
    }
    report.splits = {s: splits.count(s) for s in ("train", "val", "test") if s != "test" or s in splits}
    total = len(planned)
    notify("ground_truth", 0, total)
    versions = list(client.list_ground_truth_versions({"dataset": dataset["id"]}, list_all=True)[0])
    open_versions = [v for v in versions if not v["is_frozen"]]
    if open_versions:
        version = open_versions[-1]
    elif versions and same_events(client, versions[-1]["id"], planned):
        report.ground_truth_version, report.version = versions[-1]["id"], versions[-1]["version"]
        report.version_reused = True
        notify("ground_truth", total, total)
        return
    else:
        numbers = [int(v["version"]) for v in versions if str(v["version"]).isdigit()]
        version = client.create_ground_truth_version(dataset["id"], str(max(numbers, default=0) + 1))
    events, _ = client.list_ground_truth_events(
        {"ground_truth_dataset_version": version["id"]}, list_all=True
    )
    present = {event["data_unit"] for event in events}
    done = len(present & planned.keys())
    notify("ground_truth", done, total)
    todo = [event for unit, event in planned.items() if unit not in present]
    for start in range(0, len(todo), 500):
        batch = todo[start : start + 500]
        client.add_ground_truth_events(version["id"], batch)
        done += len(batch)
        notify("ground_truth", done, total)
    client.freeze_ground_truth_version(version["id"])
    report.ground_truth_version, report.version = version["id"], version["version"]


def same_events(client: BackendClient, version_id: int, planned: Mapping[Any, Mapping[str, Any]]) -> bool:
    """Whether a version's events are exactly ``planned``: the same data units, splits and annotations."""
    events, count = client.list_ground_truth_events(
        {"ground_truth_dataset_version": version_id}, list_all=True
    )
    if count != len(planned):
        return False
    for event in events:
        want = planned.get(event["data_unit"])
        if want is None or want["split"] != event["split"] or want["data"] != event["data"]:
            return False
    return True


def layout_splits(
    kept: Sequence[tuple[dict[str, Any], SourceImage]], val_fraction: float, seed: int
) -> list[str]:
    """Each item's split: the one its dataset's layout gives it, else train or val by ``seed`` (the
    seeded split runs over the items without one only)."""
    free = [index for index, (_, image) in enumerate(kept) if image.split is None]
    seeded = split_items([kept[index][0]["checksum"] for index in free], val_fraction, seed)
    chosen = dict(zip(free, seeded, strict=True))
    return [image.split or chosen[index] for index, (_, image) in enumerate(kept)]


def split_items(checksums: Sequence[str], val_fraction: float, seed: int = 0) -> list[str]:
    """``"train"`` or ``"val"`` for each item: ``round(n * val_fraction)`` of them val, chosen by ``seed``.

    The choice depends only on the items' checksums and the seed, never on their order or on
    ids, so a resumed or repeated import splits the same way.
    """
    rank = sorted(
        range(len(checksums)), key=lambda i: hashlib.sha256(f"{seed}:{checksums[i]}".encode()).digest()
    )
    val = set(rank[: round(len(checksums) * val_fraction)])
    return ["val" if i in val else "train" for i in range(len(checksums))]
