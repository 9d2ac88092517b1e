"""Sharded uploads: ``extra_params.num_shards`` > 1 runs the batches in Ray tasks, that many at once.

The upload's own process, the driver, finds and groups the files and reads the metadata (the
``analyze`` phase) as a single worker does, then sends each batch of ``upload_batch_size`` groups
to a Ray task. A task builds the plugin's uploader in its Ray worker (``setup_directories`` once
per task), runs the hooks over its batch and uploads it exactly as ``Batches.upload`` does here:
hashing, the files stored already found, the rest sent, the data units and tasks found or created
on the platform. What the hooks and the batch report on ``run`` is recorded and handed back with
the batch's counts; the driver replays the reports in batch order and adds up the counts. Data
units are known by their files, so the shards end with the same data units as one worker.

Where the tasks run is as for sharded exports (``export/shards.py``): in the Ray job's cluster
(its runtime env inherited), or, run here with ``SYNAPSE_RAY_ADDRESS``, the cluster it names (the
plugin folder uploaded). The tasks read the files from the paths the driver found, so on a cluster
of several machines the folders must be on storage every node mounts at the same path.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ExecutionError
from synapse_sdk.plugins.categories import sharding
from synapse_sdk.plugins.categories.sharding import RecordingRun, load_class
from synapse_sdk.plugins.categories.upload.batches import Batches, Tally

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.upload.actions.upload import UploadAction
    from synapse_sdk.plugins.categories.upload.target import UploadTarget
    from synapse_sdk.plugins.categories.upload.templates.plugin import BaseUploader


def num_shards(params: dict[str, Any]) -> int:
    """``extra_params.num_shards`` checked (see ``sharding.num_shards``)."""
    return sharding.num_shards(params, "the batches")


def run_batch(spec: dict[str, Any], given: list[dict[str, Any]]) -> dict[str, Any]:
    """In a Ray worker: the hooks and the upload of one batch; ``{"tally", "calls"}`` for the driver."""
    from synapse_sdk.clients.backend import get_backend_client
    from synapse_sdk.plugins.categories.upload.templates.plugin import HookFailed, _copied

    if spec.get("secrets"):
        os.environ.update(spec["secrets"])  # the backend's token, not shown in the runtime env
    run = RecordingRun(spec["run_path"])
    client = get_backend_client()
    uploader = load_class(spec["uploader"])(
        run, Path(spec["path"]), spec["file_specification"], [], spec["extra_params"]
    )
    uploader.client = client
    tally = Tally()
    batch = Batches(client, run, spec["params"], spec["target"], tally, total_groups=0, total_files=0)
    with ThreadPoolExecutor(spec["params"]["upload_max_workers"], thread_name_prefix="upload-hash") as pool:
        batch.pool = pool
        try:
            uploader.setup_directories()
            returned = uploader.process_batch([_copied(group) for group in given])
        except HookFailed as failed:
            batch.hook_failed(given, failed)
        except Exception as exc:  # noqa: BLE001 - setup_directories failing fails this batch only
            batch.hook_failed(given, HookFailed("setup_directories", exc))
        else:
            batch.upload(returned)
        uploader.log_filtered()
    return {"tally": tally, "calls": run.calls}


def upload_sharded(
    action: UploadAction, target: UploadTarget, uploader: BaseUploader, batch: Batches, shards: int
) -> None:
    """Upload ``uploader.organized_files`` a batch per Ray task, ``shards`` at once; counts into ``batch``."""
    remote, secrets = sharding.ray_remote(run_batch, action, "upload")
    params = action.params
    spec = {
        "uploader": (type(uploader).__module__, type(uploader).__qualname__),
        "path": str(uploader.path), "file_specification": uploader.file_specification,
        "extra_params": uploader.extra_params, "params": params, "target": target, "secrets": secrets,
        "run_path": str(action.run.path),
    }  # fmt: skip
    size = params["upload_batch_size"]
    groups = uploader.organized_files
    action.run.log_message(f"Sharding the upload: {size} data unit(s) per Ray task, {shards} task(s) at once")
    in_flight: deque[tuple[int, list[dict[str, Any]], Any]] = deque()
    try:
        for number, start in enumerate(range(0, len(groups), size)):
            given = groups[start : start + size]
            in_flight.append((number, given, remote.remote(spec, given)))
            if len(in_flight) >= shards:
                _collect(action, batch, *in_flight.popleft())
        while in_flight:
            _collect(action, batch, *in_flight.popleft())
    except BaseException:
        sharding.cancel(ref for *_, ref in in_flight)
        raise


def _collect(
    action: UploadAction, batch: Batches, number: int, given: list[dict[str, Any]], ref: Any
) -> None:
    """Wait for a batch; replay what it reported and add its counts, in batch order."""
    import ray

    try:
        outcome = ray.get(ref)
    except Exception as exc:
        from synapse_sdk.execution.ray.cluster import ray_reason

        raise ExecutionError(
            f"upload shard of batch {number + 1} ({len(given)} data unit(s)) failed: {type(exc).__name__}: "
            f"{ray_reason(exc)}; what was uploaded stays: run the upload again to send the rest"
        ) from exc
    sharding.replay(action.run, outcome["calls"])
    batch.tally.merge(outcome["tally"])
    batch.tally.groups_done += len(given)
    batch.report()
