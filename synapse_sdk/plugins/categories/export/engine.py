"""The export loop ``BaseExporter.export()`` drives: per item convert, copy the original, save, record.

Items stream through once, in order. For each, the conversion hooks run here; the original file
is copied on a bounded thread pool (``BaseExporter.copy_workers``); then, back here and in stream
order, the converted data is saved (``save_as_json``, or a format writer) and the item is recorded
in the manifest. At most ``2 x copy_workers`` items are in flight, so memory stays flat however
many items there are. A failure in any hook fails that item alone: it is counted, listed in
``error_file_list.json`` and the loop goes on.

``todo`` (naming, resume) and ``process`` (the hooks) are separate steps so that a sharded export
(``shards.py``) can name the items here and run ``process`` over chunks of them in Ray tasks.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import AnnotationError, UsageError
from synapse_sdk.plugins.categories.export.enums import ExportStatus

if TYPE_CHECKING:
    from synapse_sdk.formats.writers import FormatWriter, Sample
    from synapse_sdk.plugins.categories.export.manifest import Manifest, ManifestState
    from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

#: How often (in items) the running counts are recorded as metrics.
METRICS_EVERY: Final = 100
#: The file kinds counted: the converted data (JSON or a format's label files) and the original.
KINDS: Final = ("data_file", "original_file")
#: The keys of ``error_file_list.json``, per kind (the reference SDK's names).
ERROR_KEYS: Final = {"data_file": "json_file_name", "original_file": "origin_file_name"}
#: Item outcomes.
OUTCOMES: Final = ("success", "failed", "skipped")


class UniqueNames:
    """Gives every item's file a name no earlier item has: its original name, or ``<stem>_<id><ext>``.

    Names are told apart by stem, case-insensitively (``a.jpg`` and ``A.png`` would both make
    ``a.json``). Only the stems are kept, so memory grows by a short string per item.
    """

    def __init__(self) -> None:
        self._stems: set[str] = set()

    def assign(self, original: str, item_id: Any) -> str:
        """The export's name for a file named ``original`` of item ``item_id``."""
        stem, suffix = split_name(original)
        stem = stem or "file"
        candidate, number = f"{stem}{suffix}", 0
        if (key := stem.casefold()) not in self._stems:  # the usual case: the name is new
            self._stems.add(key)
            return candidate
        while split_name(candidate)[0].casefold() in self._stems:
            number += 1
            tail = f"_{_safe(item_id)}" + (f"_{number - 1}" if number > 1 else "")
            candidate = f"{stem}{tail}{suffix}"
        self._stems.add(split_name(candidate)[0].casefold())
        return candidate


def split_name(name: str) -> tuple[str, str]:
    """``(PurePath(name).stem, PurePath(name).suffix)``; a plain file name is split without a path."""
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        path = PurePath(name)
        return path.stem, path.suffix
    dot = name.rfind(".")  # as pathlib: a dot that is the name's first or last character starts no suffix
    return (name[:dot], name[dot:]) if 0 < dot < len(name) - 1 else (name, "")


def _without_name(files: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in files.items() if k != "file_name"}


def _safe(value: Any) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in str(value)) or "item"


@dataclass
class Job:
    """One item on its way through the loop."""

    index: int
    id: Any
    status: str | None = None  # None: not decided yet (still succeeding)
    result: dict[str, Any] | None = None
    sample: Sample | None = None
    future: Future[tuple[ExportStatus, list[Any], Path | None]] | None = None
    kinds: dict[str, str] = field(default_factory=lambda: dict.fromkeys(KINDS, "skipped"))
    errors: dict[str, list[Any]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def fail(self, kind: str, entry: list[Any]) -> None:
        self.status = "failed"
        self.kinds[kind] = "failed"
        self.errors.setdefault(ERROR_KEYS[kind], []).append(entry)

    def record(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "status": self.status, "kinds": self.kinds,
                "files": self.files, "errors": self.errors}  # fmt: skip


@dataclass
class Tally:
    """Counts of items and of files per kind, and the error lists (by item position)."""

    items: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    kinds: dict[str, dict[str, int]] = field(
        default_factory=lambda: {kind: dict.fromkeys(OUTCOMES, 0) for kind in KINDS}
    )
    errors: list[tuple[int, str, list[Any]]] = field(default_factory=list)
    done: int = 0

    def add(self, record: dict[str, Any]) -> None:
        self.items[record["status"]] += 1
        for kind, outcome in record.get("kinds", {}).items():
            if kind in self.kinds and outcome in OUTCOMES:
                self.kinds[kind][outcome] += 1
        for key, entries in (record.get("errors") or {}).items():
            self.errors.extend((record["index"], key, entry) for entry in entries)
        self.done += 1

    def error_report(self) -> dict[str, list[Any]]:
        """``{"json_file_name": [[name, error]...], "origin_file_name": [...]}``, in stream order."""
        report: dict[str, list[Any]] = {key: [] for key in ERROR_KEYS.values()}
        for _, key, entry in sorted(self.errors, key=lambda e: e[0]):
            report.setdefault(key, []).append(entry)
        return report


class ExportLoop:
    """Runs every item of one export through the exporter's hooks (see the module docstring)."""

    def __init__(
        self,
        exporter: BaseExporter,
        root: Path,
        paths: dict[str, Path],
        manifest: Manifest | None,
        previous: ManifestState | None,
        total: int,
        writer: FormatWriter | None = None,
    ) -> None:
        self.exporter = exporter
        self.root = root
        self.paths = paths
        self.manifest = manifest
        self.previous = previous
        self.total = total
        self.writer = writer
        self.save_original = bool(exporter.params.get("save_original_file"))
        self.names = UniqueNames()
        self.tally = Tally()
        self.where = str(exporter.params.get("target") or "item")
        #: The items' data is the platform's, unchanged: checked when it was stored (see ``run``).
        self.trusted = False

    def run(self, items: Iterable[Any]) -> Tally:
        """Export every item; returns the counts (those of a resumed run's earlier items included)."""
        self.trusted = _checked_by_platform(items, self.exporter)
        self.process(self.todo(items))
        self._report(final=True)
        return self.tally

    def todo(self, items: Iterable[Any]) -> Iterator[tuple[int, Any, Any]]:
        """``(index, item, item id)`` of each item to export, its file given the export's unique name;
        the items a resumed export did already are counted, not given."""
        for index, item in enumerate(items):
            item_id = self._name_files(index, item)
            done = self.previous.items.get(index) if self.previous else None
            if done is not None and done.get("status") != "failed":  # failed items are tried again
                if done.get("id") != _jsonable(item_id):
                    raise UsageError(
                        f"the items changed since this export started: item #{index + 1} was "
                        f"{done.get('id')!r}, now {item_id!r}; start a new export (without resume)"
                    )
                self._finished(done)
                continue
            yield index, item, item_id

    def process(self, todo: Iterable[tuple[int, Any, Any]]) -> None:
        """Run each named item through the hooks, recording each in stream order (``recorded``)."""
        workers = max(1, int(self.exporter.copy_workers))
        pending: deque[Job] = deque()
        with ThreadPoolExecutor(workers, thread_name_prefix="export-copy") as pool:
            for index, item, item_id in todo:
                pending.append(self._start(index, item, item_id, pool))
                while pending and (len(pending) >= 2 * workers or _ready(pending[0])):
                    self._finish(pending.popleft())
            while pending:
                self._finish(pending.popleft())

    def recorded(self, record: dict[str, Any]) -> None:
        """One finished item: into the manifest, counted, progress reported."""
        assert self.manifest is not None  # only a shard's loop (shards.py) goes without, and records none
        self.manifest.record(record)
        self.tally.add(record)
        self._report()

    # -- one item ---------------------------------------------------------------------------------

    def _name_files(self, index: int, item: Any) -> Any:
        """The item's id, and its files entry given the export's unique ``file_name``."""
        if not isinstance(item, dict):
            return index + 1
        item_id = item.get("id", index + 1)
        files = item.get("files")
        if isinstance(files, dict) and files:
            try:
                given = _without_name(files) if "file_name" in files else files
                original = self.exporter.get_original_file_name(given)
            except Exception:  # noqa: BLE001 - no name to make unique: the hooks report it
                return item_id
            item["files"] = {**files, "file_name": self.names.assign(original, item_id)}
        return item_id

    def _start(self, index: int, item: Any, item_id: Any, pool: ThreadPoolExecutor) -> Job:
        from synapse_sdk.plugins.categories.export.templates.plugin import as_result

        exporter, job = self.exporter, Job(index, _jsonable(item_id))
        try:
            converted = exporter.process_data_conversion(item)
        except Exception as exc:  # noqa: BLE001 - a failed item is reported, the export goes on
            exporter.run.log_message(
                f"item {item_id}: conversion failed: {type(exc).__name__}: {exc}", "ERROR"
            )
            job.fail("data_file", [str(item_id), f"{type(exc).__name__}: {exc}"])
            return job
        if converted is None:
            job.status = "skipped"
            return job
        job.result = result = as_result(converted, item, item_id)
        copy = self.save_original and bool(result.get("files"))
        image: Path | None = None
        if self.writer is not None:
            try:
                job.sample = self._sample(index, result, item)
                # Without a copy, write() makes the same checks of the sample as image_path().
                image = self.root / self.writer.image_path(job.sample) if copy else None
            except Exception as exc:  # noqa: BLE001 - e.g. an AnnotationError naming the field
                exporter.run.log_message(_problem(item_id, exc), "ERROR")
                job.fail("data_file", [self._file_name(result), f"{type(exc).__name__}: {exc}"])
                return job
        if copy:
            job.future = pool.submit(self._copy, result, image)
        return job

    def _copy(
        self, result: dict[str, Any], target: Path | None
    ) -> tuple[ExportStatus, list[Any], Path | None]:
        """Save the item's original (on a pool thread): the hook, into ``target`` (a format's image path)."""
        exporter, name = self.exporter, self._file_name(result)
        errors: list[Any] = []
        try:
            if target is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.name != name:  # the format renames it: the hook cannot, copy it here
                    exporter.copy_original(result.get("files") or {}, target)
                    return ExportStatus.SUCCESS, errors, target
                base = target.parent
            else:
                base = self.paths.get("origin_files_output_path") or self.root / "origin_files"
            status = _status(exporter.save_original_file(result, base, errors), errors)
            return status, errors, base / name
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the export
            if not errors:
                errors.append([name, f"{type(exc).__name__}: {exc}"])
            return ExportStatus.FAILED, errors, None

    def _finish(self, job: Job) -> None:
        """Save the item's data once its original is copied, record it, count it (stream order)."""
        if job.future is not None:
            status, errors, copied = job.future.result()
            if errors:
                job.errors.setdefault(ERROR_KEYS["original_file"], []).extend(errors)
            if status == ExportStatus.SUCCESS:
                job.kinds["original_file"] = "success"
                if copied is not None and copied.is_file():
                    job.files[self._relative(copied)] = self.exporter.verified_checksum(copied)
            else:
                job.status, job.kinds["original_file"] = "failed", "failed"
                if not errors:
                    job.errors.setdefault(ERROR_KEYS["original_file"], []).append(
                        [self._file_name(job.result or {}), "the original file was not saved"]
                    )
        if job.status is None and job.result is not None:
            self._save(job)
        if job.status is None:
            job.status = "success"
        self.recorded(job.record())

    def _save(self, job: Job) -> None:
        exporter, result = self.exporter, job.result
        assert result is not None
        try:
            if self.writer is not None and job.sample is not None:
                written = [self.root / p for p in self.writer.write(job.sample)]
                status = ExportStatus.SUCCESS
            else:
                errors: list[Any] = []
                base = self.paths.get("json_output_path") or self.root / "json"
                status = _status(exporter.save_as_json(result, base, errors), errors)
                if errors:
                    job.errors.setdefault(ERROR_KEYS["data_file"], []).extend(errors)
                written = [base / f"{PurePath(self._file_name(result)).stem}.json"]
        except Exception as exc:  # noqa: BLE001 - e.g. an AnnotationError the format raises
            exporter.run.log_message(_problem(job.id, exc, "saving failed: "), "ERROR")
            job.fail("data_file", [self._file_name(result), f"{type(exc).__name__}: {exc}"])
            return
        if status != ExportStatus.SUCCESS:
            job.status, job.kinds["data_file"] = "failed", "failed"
            return
        job.kinds["data_file"] = "success"
        for path in written:
            if path.is_file():
                job.files[self._relative(path)] = _sha256(path)

    def _finished(self, record: dict[str, Any]) -> None:
        """An item a killed run of this export already did: counted, not done again."""
        self.tally.add(record)

    # -- helpers ----------------------------------------------------------------------------------

    def _sample(self, index: int, result: dict[str, Any], item: Any) -> Sample:
        from synapse_sdk.formats.dm import AnnotationData, validate_annotation
        from synapse_sdk.formats.writers import Sample

        files = result.get("files") or {}
        data = result.get("data")
        if data is None:
            annotation = AnnotationData()
        else:
            trusted = self.trusted and isinstance(item, dict) and data is item.get("data")
            annotation = validate_annotation(data, where=f"{self.where} {result.get('id')}", trusted=trusted)
        split = result.get("split", item.get("split") if isinstance(item, dict) else None)
        return Sample(
            index=index, id=str(result.get("id")), file_name=self._file_name(result),
            width=files.get("width"), height=files.get("height"), split=split, annotation=annotation,
        )  # fmt: skip

    def _file_name(self, result: dict[str, Any]) -> str:
        try:
            return self.exporter.get_original_file_name(result.get("files"))
        except Exception:  # noqa: BLE001 - a name for messages only
            return f"{result.get('id')}"

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:  # a hook wrote elsewhere, or through another spelling of the root
            try:
                return path.resolve().relative_to(self.root.resolve()).as_posix()
            except ValueError:
                return str(path)

    def _report(self, final: bool = False) -> None:
        run, tally, total = self.exporter.run, self.tally, self.total
        done = tally.done
        run.set_progress(min(done, total) if total else 1, max(total, 1), category="dataset_conversion")
        if final or done % METRICS_EVERY == 0:
            for kind in KINDS if self.save_original else KINDS[:1]:
                counts = tally.kinds[kind]
                run.set_metrics({**counts, "stand_by": max(total - done, 0)}, category=kind)


#: The hooks that may change an item's data before it is saved.
_CONVERSION_HOOKS: Final = ("before_convert", "convert_data", "after_convert", "process_data_conversion")


def _checked_by_platform(items: Iterable[Any], exporter: BaseExporter) -> bool:
    """Whether the items' data reaches the writer as the platform stored (and validated) it: the
    items are read from the platform and the exporter keeps ``BaseExporter``'s conversion hooks."""
    from synapse_sdk.plugins.categories.export.targets.platform import PlatformItems
    from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

    kind = type(exporter)
    return isinstance(items, PlatformItems) and all(
        getattr(kind, hook) is getattr(BaseExporter, hook) for hook in _CONVERSION_HOOKS
    )


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the garbage collector off the objects that exist before the export loop (modules,
    schemas, the platform client) while it runs.

    Each page of items lives long enough to reach the oldest generation, so without this the
    collector walks the whole heap every few thousand items (a fifth of an export's time). The
    objects are unfrozen at the end; a process that froze its heap itself (before forking
    workers) is left as it was.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _problem(item_id: Any, exc: BaseException, doing: str = "") -> str:
    """A log line for an item's failure (annotation errors name the item themselves)."""
    if isinstance(exc, AnnotationError):
        return str(exc)
    return f"item {item_id}: {doing}{type(exc).__name__}: {exc}"


def _status(value: Any, errors: list[Any]) -> ExportStatus:
    """A save hook's status; one that returns nothing succeeded unless it listed an error."""
    if value is None:
        return ExportStatus.FAILED if errors else ExportStatus.SUCCESS
    return ExportStatus(value)


def _ready(job: Job) -> bool:
    return job.future is None or job.future.done()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """The sha256 (hex) of a file, streamed."""
    return _sha256(path)


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def counted(items: Iterable[Any]) -> tuple[int, Iterable[Any]]:
    """How many items there are, and the items to go through: a sized collection is asked, a
    re-iterable one counted in a pass of its own, and only a one-shot generator buffered (``tee``)."""
    if hasattr(items, "__len__"):
        return len(items), items  # type: ignore[arg-type]
    if iter(items) is not items:
        return sum(1 for _ in items), items
    from itertools import tee

    counter, rest = tee(items)
    return sum(1 for _ in counter), rest
