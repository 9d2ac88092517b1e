"""The ground-truth version of a post-annotation: the reviewed tasks' merged annotations, split by image.

The dataset (``ground_truth_dataset``, default ``<project title> consensus``) is found or made;
when its latest frozen version holds exactly these events (a run repeated on unchanged work) it
is reused, else a new version (``1``, ``2``...) gets them and is frozen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from synapse_sdk.clients.backend.imports.ground_truth import same_events
from synapse_sdk.plugins.categories.post_annotation.split import SPLITS, split_groups

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.post_annotation.post_annotation import PostAnnotationAction

#: Events per request.
BATCH = 500


def image_group(task: Mapping[str, Any]) -> str:
    """What keeps an image in one split: its primary file's checksum, else its data unit."""
    checksum = (task.get("files") or {}).get("checksum")
    return f"sha256:{checksum}" if checksum else f"data_unit:{task.get('data_unit')}"


def write_ground_truth(
    action: PostAnnotationAction,
    project: Mapping[str, Any],
    reviewed: Sequence[tuple[Mapping[str, Any], dict[str, Any]]],
    records: list[dict[str, Any]],
) -> dict[str, Any]:
    """A frozen version of the reviewed tasks; each task's record gets its split. Returns the
    dataset and version ids and the count per split."""
    client, params, run = action.client, action.params, action.run
    chosen = split_groups([image_group(task) for task, _ in reviewed], params["splits"], params["seed"])
    planned = {
        task["data_unit"]: {"data_unit": task["data_unit"], "data": data, "split": chosen[image_group(task)]}
        for task, data in reviewed
        if task.get("data_unit") is not None
    }
    split_of = {task["id"]: chosen[image_group(task)] for task, _ in reviewed}
    for record in records:
        if record["task"] in split_of:
            record["split"] = split_of[record["task"]]
    name = params["ground_truth_dataset"] or f"{project['title']} consensus"
    found = client.list_ground_truth_datasets({"name": name})["results"]
    dataset = found[0] if found else client.create_ground_truth_dataset(
        {"name": name, "project": project["id"], "description": f"Consensus of project {project['id']}"}
    )  # fmt: skip
    versions = list(client.list_ground_truth_versions({"dataset": dataset["id"]}, list_all=True)[0])
    frozen = [v for v in versions if v["is_frozen"]]
    splits = {s: sum(e["split"] == s for e in planned.values()) for s in SPLITS}
    if frozen and same_events(client, frozen[-1]["id"], planned):
        version = frozen[-1]
        run.log_message(
            f"Ground truth {name!r} version {version['version']} holds these items already: reused"
        )
    else:
        numbers = [int(v["version"]) for v in versions if str(v["version"]).isdigit()]
        version = client.create_ground_truth_version(dataset["id"], str(max(numbers, default=0) + 1))
        events = list(planned.values())
        for start in range(0, len(events), BATCH):
            client.add_ground_truth_events(version["id"], events[start : start + BATCH])
            run.set_progress(min(start + BATCH, len(events)), len(events), category="ground_truth")
        client.freeze_ground_truth_version(version["id"])
        shown = ", ".join(f"{count} {split}" for split, count in splits.items())
        run.log_message(
            f"Ground truth {name!r} version {version['version']}: {len(events)} item(s) ({shown}), frozen"
        )
    return {"ground_truth_dataset": dataset["id"], "ground_truth_version": version["id"], "splits": splits}
