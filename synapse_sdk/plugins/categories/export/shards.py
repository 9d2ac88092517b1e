"""Sharded exports: ``extra_params.num_shards`` > 1 runs the per-item work in Ray tasks.

The export's own process, the driver, streams the items once and names their files exactly as the
single-worker loop does (:meth:`ExportLoop.todo`: the same indexes, the same unique names), then
sends them in chunks (of :data:`CHUNK_SIZE`, or ``total / num_shards`` items if fewer) to Ray
tasks, at most ``num_shards`` at once. A task
builds the plugin's exporter in its Ray worker and runs the same loop over its chunk
(:meth:`ExportLoop.process`: conversion hooks, original copy, ``save_as_json`` or the format
writer) into the same export folder; what the hooks report on ``self.run`` is recorded and handed
back with the chunk's per-item records. The driver, in stream order, replays the reports, writes
the records into the manifest and counts them; then it runs ``writer.close()``,
``additional_file_saving`` and the error list itself, as a single worker does. So the output is
byte for byte a single worker's.

Where the tasks run: an export that runs as a Ray job (method ``job`` with a Ray address) starts
them in the job's cluster and they inherit its runtime env (the plugin folder, its requirements);
an export run here with ``SYNAPSE_RAY_ADDRESS`` set connects to that cluster and ships the plugin
folder the way Ray tasks are (``upload_working_dir``). Every task writes into the export folder,
so on a cluster of several machines that folder must be on storage they all share.

A failing item fails that item only, as in a single worker. A task that dies (its worker killed)
fails the export naming its chunk; the manifest holds every item whose record reached the driver,
so ``resume: true`` goes on from there.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import ExecutionError, ParamsError, UsageError
from synapse_sdk.plugins.categories.export.engine import ExportLoop, Tally

if TYPE_CHECKING:
    from synapse_sdk.formats.writers import FormatWriter
    from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

#: Items per Ray task.
CHUNK_SIZE: Final = 500
#: The most shards an export takes.
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
            f"that share the items), got {value!r}"
        )
    if value > 1 and importlib.util.find_spec("ray") is None:
        raise ParamsError(
            f"params.extra_params.{KEY}: {value} shards run as Ray tasks, and Ray is not installed; "
            "install synapse-plugin-sdk[ray], or leave num_shards at 1"
        )
    return value


class RecordingRun:
    """What a shard's exporter reports on ``self.run``: every call kept, for the driver to replay."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args, kwargs))  # list.append: safe from the copy threads

        return call


class _ChunkLoop(ExportLoop):
    """The loop of one shard: records go back to the driver instead of into the manifest."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.records: list[dict[str, Any]] = []

    def recorded(self, record: dict[str, Any]) -> None:
        self.records.append(record)


def run_chunk(spec: dict[str, Any], chunk: list[tuple[int, Any, Any]]) -> dict[str, Any]:
    """In a Ray worker: export the named items of ``chunk`` into the export folder (see the module doc).

    Returns ``{"records": [per-item manifest records], "calls": [run calls to replay]}``.
    """
    if spec.get("secrets"):
        os.environ.update(spec["secrets"])  # the backend's token, not shown in the runtime env
    exporter_class = _exporter_class(spec["exporter"])
    run = RecordingRun()
    root = Path(spec["root"])
    params = spec["params"]
    exporter = exporter_class(run, [], root, **params)
    if spec.get("client"):
        from synapse_sdk.clients.backend import get_backend_client

        exporter.client = get_backend_client()
    paths = exporter.setup_output_directories(root, bool(params.get("save_original_file")))
    run.calls.clear()  # what setup reported, the driver reported already
    writer = _writer(exporter, root, spec["classes"], spec["part"])
    loop = _ChunkLoop(exporter, root, paths, None, None, spec["total"], writer)
    loop.process(chunk)
    return {"records": loop.records, "calls": run.calls}


def _exporter_class(name: tuple[str, str]) -> type[BaseExporter]:
    """The exporter class ``(module, qualname)``: the SDK's, or the plugin's from the task's folder."""
    module_name, qualname = name
    if not module_name.startswith("synapse_sdk.") and Path("config.yaml").is_file():
        folder = str(Path.cwd())  # Ray's copy of the plugin folder
        if folder not in sys.path:
            sys.path.insert(0, folder)
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    found: type[BaseExporter] = obj
    return found


def _writer(exporter: BaseExporter, root: Path, classes: list[str] | None, part: str) -> FormatWriter | None:
    writer_class = exporter._writer_class()
    if writer_class is None:
        return None
    make: Any = writer_class
    if "part" in inspect.signature(make).parameters:  # a writer with a journal: its own part of it
        found: FormatWriter = make(root, classes or [], part=part)
        return found
    return writer_class(root, classes or [])


class ShardedLoop(ExportLoop):
    """The driver's loop: items named here, exported in Ray tasks, recorded here in stream order."""

    def __init__(
        self,
        *args: Any,
        shards: int,
        classes: list[str] | None,
        remote: tuple[Any, dict[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.shards = shards
        self.classes = classes
        self.remote = remote

    def run(self, items: Iterable[Any]) -> Tally:
        remote, secrets = self.remote
        exporter = self.exporter
        spec = {
            "exporter": (type(exporter).__module__, type(exporter).__qualname__),
            "params": exporter.params,
            "root": str(self.root),
            "classes": self.classes,
            "total": self.total,
            "client": exporter.client is not None,
            "secrets": secrets,
        }
        exporter.run.log_message(
            f"Sharding the export: up to {CHUNK_SIZE} items per Ray task, {self.shards} task(s) at once"
        )
        in_flight: deque[tuple[int, int, int, Any]] = deque()
        try:
            size = max(1, min(CHUNK_SIZE, -(-self.total // self.shards)))  # every shard busy, however few
            for number, chunk in enumerate(_chunks(self.todo(items), size)):
                ref = remote.remote({**spec, "part": str(number)}, chunk)
                in_flight.append((number, chunk[0][0], chunk[-1][0], ref))
                if len(in_flight) >= self.shards:
                    self._collect(*in_flight.popleft())
            while in_flight:
                self._collect(*in_flight.popleft())
        except BaseException:
            _cancel([ref for *_, ref in in_flight])
            raise
        self._report(final=True)
        return self.tally

    def _collect(self, number: int, first: int, last: int, ref: Any) -> None:
        """Wait for a chunk; replay what its hooks reported and record its items, in order."""
        import ray

        try:
            outcome = ray.get(ref)
        except Exception as exc:
            from synapse_sdk.execution.ray.cluster import ray_reason

            raise ExecutionError(
                f"export shard of chunk {number + 1} (items #{first + 1}-#{last + 1}) failed: "
                f"{type(exc).__name__}: {ray_reason(exc)}; the items before it are recorded: run the "
                "export again with resume: true to go on"
            ) from exc
        run = self.exporter.run
        for name, args, kwargs in outcome["calls"]:
            with contextlib.suppress(Exception):  # reporting never fails the export
                getattr(run, name)(*args, **kwargs)
        for record in outcome["records"]:
            self.recorded(record)


def _chunks(todo: Iterator[tuple[int, Any, Any]], size: int) -> Iterator[list[tuple[int, Any, Any]]]:
    while chunk := list(islice(todo, size)):
        yield chunk


def _cancel(refs: list[Any]) -> None:
    import ray

    for ref in refs:
        with contextlib.suppress(Exception):
            ray.cancel(ref, force=True)


def remote_chunks(exporter: BaseExporter) -> tuple[Any, dict[str, str]]:
    """``run_chunk`` as a Ray remote function, this process connected to the cluster, and the secrets
    the tasks need: inside a Ray job its cluster (the job's runtime env inherited), else the one
    ``SYNAPSE_RAY_ADDRESS`` names (the plugin folder uploaded)."""
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
        action = getattr(exporter, "action", None)
        if action is not None:
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
            "export on one (--ray-address / SYNAPSE_RAY_ADDRESS), or leave num_shards at 1"
        )
    return ray.remote(run_chunk).options(**options), backend_secrets(settings)
