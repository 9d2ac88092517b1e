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

import inspect
import os
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import ExecutionError
from synapse_sdk.plugins.categories import sharding
from synapse_sdk.plugins.categories.export.engine import ExportLoop, Tally
from synapse_sdk.plugins.categories.sharding import RecordingRun, load_class

if TYPE_CHECKING:
    from synapse_sdk.formats.writers import FormatWriter
    from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

#: Items per Ray task.
CHUNK_SIZE: Final = 500


def num_shards(params: dict[str, Any]) -> int:
    """``extra_params.num_shards`` checked (see ``sharding.num_shards``)."""
    return sharding.num_shards(params, "the items")


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
    exporter_class: type[BaseExporter] = load_class(spec["exporter"])
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
    if writer is not None:
        writer.flush()  # before the driver records these items in the manifest
    return {"records": loop.records, "calls": run.calls}


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
            sharding.cancel(ref for *_, ref in in_flight)
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
        sharding.replay(self.exporter.run, outcome["calls"])
        for record in outcome["records"]:
            self.recorded(record)


def _chunks(todo: Iterator[tuple[int, Any, Any]], size: int) -> Iterator[list[tuple[int, Any, Any]]]:
    while chunk := list(islice(todo, size)):
        yield chunk


def remote_chunks(exporter: BaseExporter) -> tuple[Any, dict[str, str]]:
    """``run_chunk`` as a Ray remote function and the secrets its tasks need (``sharding.ray_remote``)."""
    return sharding.ray_remote(run_chunk, getattr(exporter, "action", None), "export")
