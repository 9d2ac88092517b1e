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

import contextlib
import importlib
import importlib.util
import os
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import ExecutionError, ParamsError, UsageError
from synapse_sdk.plugins.categories.upload.batches import Batches, Tally

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.upload.actions.upload import UploadAction
    from synapse_sdk.plugins.categories.upload.target import UploadTarget
    from synapse_sdk.plugins.categories.upload.templates.plugin import BaseUploader

#: The most shards an upload takes.
MAX_SHARDS: Final = 256
#: The ``extra_params`` key.
KEY: Final = "num_shards"


def num_shards(params: dict[str, Any]) -> int:
    """``extra_params.num_shards`` checked: an int 1..256 (1 when not given); ``ParamsError`` otherwise,
    and for more than 1 without Ray installed."""
    extra = params.get("extra_params")
    value = extra.get(KEY, 1) if isinstance(extra, dict) else 1
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SHARDS:
        raise ParamsError(
            f"params.extra_params.{KEY}: expected a whole number from 1 to {MAX_SHARDS} (the Ray tasks "
            f"that upload the batches at once), got {value!r}"
        )
    if value > 1 and importlib.util.find_spec("ray") is None:
        raise ParamsError(
            f"params.extra_params.{KEY}: {value} shards run as Ray tasks, and Ray is not installed; "
            "install synapse-plugin-sdk[ray], or leave num_shards at 1"
        )
    return value


class RecordingRun:
    """What a shard reports on ``run``: every call kept, for the driver to replay in batch order."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args, kwargs))

        return call


def run_batch(spec: dict[str, Any], given: list[dict[str, Any]]) -> dict[str, Any]:
    """In a Ray worker: the hooks and the upload of one batch; ``{"tally", "calls"}`` for the driver."""
    from synapse_sdk.clients.backend import get_backend_client
    from synapse_sdk.plugins.categories.upload.templates.plugin import HookFailed, _copied

    if spec.get("secrets"):
        os.environ.update(spec["secrets"])  # the backend's token, not shown in the runtime env
    run = RecordingRun(spec["run_path"])
    client = get_backend_client()
    uploader = _uploader_class(spec["uploader"])(
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


def _uploader_class(name: tuple[str, str]) -> type[BaseUploader]:
    """The uploader class ``(module, qualname)``: the SDK's, or the plugin's from the task's folder."""
    module_name, qualname = name
    if not module_name.startswith("synapse_sdk.") and Path("config.yaml").is_file():
        folder = str(Path.cwd())  # Ray's copy of the plugin folder
        if folder not in sys.path:
            sys.path.insert(0, folder)
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    found: type[BaseUploader] = obj
    return found


def upload_sharded(
    action: UploadAction, target: UploadTarget, uploader: BaseUploader, batch: Batches, shards: int
) -> None:
    """Upload ``uploader.organized_files`` a batch per Ray task, ``shards`` at once; counts into ``batch``."""
    remote, secrets = _remote(action)
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
        _cancel([ref for *_, ref in in_flight])
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
    run = action.run
    for name, args, kwargs in outcome["calls"]:
        with contextlib.suppress(Exception):  # reporting never fails the upload
            getattr(run, name)(*args, **kwargs)
    batch.tally.merge(outcome["tally"])
    batch.tally.groups_done += len(given)
    batch.report()


def _cancel(refs: list[Any]) -> None:
    import ray

    for ref in refs:
        with contextlib.suppress(Exception):
            ray.cancel(ref, force=True)


def _remote(action: UploadAction) -> tuple[Any, dict[str, str]]:
    """``run_batch`` as a Ray remote function (this process connected to the cluster), and the
    secrets the tasks need; as ``export/shards.py``'s ``remote_chunks``."""
    import ray

    from synapse_sdk.execution.ray.cluster import connect
    from synapse_sdk.runtime_env.ray import (
        backend_env_vars,
        backend_secrets,
        to_ray_runtime_env,
        upload_working_dir,
    )
    from synapse_sdk.settings import Settings

    settings = Settings.from_env()
    options: dict[str, Any] = {"max_retries": 0, "num_cpus": 1}
    if os.environ.get("RAY_ADDRESS"):  # the driver of a Ray job: the tasks inherit the job's runtime env
        if not ray.is_initialized():
            connect(os.environ["RAY_ADDRESS"])
    elif settings.ray_address or ray.is_initialized():
        if not ray.is_initialized():
            connect(str(settings.ray_address))
        config = action.plugin_config
        env = to_ray_runtime_env(
            action.get_runtime_env(),
            config.package_manager if config is not None else "pip",
            extra_env_vars=backend_env_vars(settings),
        )
        try:
            options["runtime_env"] = upload_working_dir(env)
        except Exception as exc:
            raise ExecutionError(f"cannot upload the plugin to Ray: {exc}") from exc
    else:
        raise UsageError(
            f"params.extra_params.{KEY}: the shards run as Ray tasks, and no Ray cluster is set: run the "
            "upload on one (--ray-address / SYNAPSE_RAY_ADDRESS), or leave num_shards at 1"
        )
    return ray.remote(run_batch).options(**options), backend_secrets(settings)
