"""One batch of an upload: check each unit's files, hash them, send what the storage lacks, make units.

``Batches.upload(groups)`` takes the groups the uploader's hooks returned for one batch. A unit
whose files break a rule (a required specification missing, an extension the collection does not
allow, a file over ``max_file_size_mb``, a file that is gone or unreadable) fails before any of
its files is sent; a file the platform refuses (``FileChecksumMismatch``: it changed after it was
hashed) fails its unit after. Every file's outcome is counted, logged through the run
(``upload_file`` events) and, when it failed, kept for ``upload_errors.json``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from synapse_sdk.backend.checks import unit_checksum
from synapse_sdk.plugins.categories.upload.enums import UploadStatus
from synapse_sdk.plugins.categories.upload.transfer import find_stored, hash_files, send_files
from synapse_sdk.plugins.categories.upload.units import ensure_data_units, ensure_tasks

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient
    from synapse_sdk.plugins.categories.upload.target import UploadTarget
    from synapse_sdk.plugins.categories.upload.templates.plugin import HookFailed

MB: Final = 1 << 20


@dataclass
class Tally:
    """Counts of files, data units and tasks, and every failed file (path, spec, unit, error)."""

    files: dict[str, int] = field(default_factory=lambda: dict.fromkeys(UploadStatus, 0))
    units: dict[str, int] = field(default_factory=lambda: {"created": 0, "existing": 0, "failed": 0})
    tasks: dict[str, int] = field(default_factory=lambda: {"created": 0, "existing": 0})
    bytes_sent: int = 0
    groups_done: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        """Add the counts and errors of another tally (a Ray shard's)."""
        for mine, theirs in ((self.files, other.files), (self.units, other.units), (self.tasks, other.tasks)):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        self.bytes_sent += other.bytes_sent
        self.errors.extend(other.errors)

    def fail_file(self, path: Any, spec: str | None, unit: str | None, error: Any) -> None:
        """Count a failed file and keep its entry for ``upload_errors.json``."""
        self.files[UploadStatus.FAILED] += 1
        shown = None if path is None else str(path)
        self.errors.append({"file": shown, "spec": spec, "data_unit": unit, "error": str(error)})


class Unit(NamedTuple):
    """A group the hooks returned, as a batch handles it."""

    label: str
    files: dict[str, Path]
    meta: dict[str, Any]


class Batches:
    """Uploads the groups the uploader returns, a batch at a time, and reports progress and metrics."""

    def __init__(
        self, client: BackendClient, run: Any, params: dict[str, Any], target: UploadTarget, tally: Tally, *,
        total_groups: int, total_files: int,
    ) -> None:  # fmt: skip
        self.client, self.run, self.params = client, run, params
        self.target, self.tally = target, tally
        self.total_groups, self.total_files = total_groups, total_files
        self.specs = {spec.name: spec for spec in target.specs}
        self.primary = next((s.name for s in target.specs if s.is_primary), target.specs[0].name)
        self.max_bytes = int(self.params["max_file_size_mb"] * MB)
        self.pool: ThreadPoolExecutor | None = None

    def hook_failed(self, given: list[dict[str, Any]], failed: HookFailed) -> None:
        """Every group of a batch a hook raised on fails, with the hook's error."""
        self.run.log_message(f"{len(given)} data unit(s) failed: {failed}", "ERROR")
        for group in given:
            unit = self.unit(group)
            for spec, path in unit.files.items():
                self.file_failed(path, spec, unit.label, str(failed))
            self.tally.units["failed"] += 1

    def upload(self, groups: list[dict[str, Any]]) -> None:
        """Check, hash and send the files of ``groups``; make their data units (and tasks)."""
        units = [unit for unit in map(self.unit, groups) if self.passes(unit)]
        paths = list(dict.fromkeys(path for unit in units for path in unit.files.values()))
        assert self.pool is not None
        hashed = hash_files(paths, self.pool, self.max_bytes, workers=self.params["upload_max_workers"])
        sums: dict[Path, Any] = dict(zip(paths, hashed, strict=True))
        units = [unit for unit in units if self.hashed(unit, sums)]
        storage = self.target.storage["id"]
        records = find_stored(
            self.client, list(dict.fromkeys(sums[p][0] for u in units for p in u.files.values())), storage
        )
        send: dict[str, Path] = {}
        for unit in units:
            for path in unit.files.values():
                sha = sums[path][0]
                if sha not in records:
                    send.setdefault(sha, path)
        entries: list[dict[str, Any]] = [
            {"path": path, "name": path.name, "checksum": sha} for sha, path in send.items()
        ]
        outcomes = send_files(
            self.client, entries, storage, workers=self.params["upload_max_workers"],
            retries=self.params["upload_max_retries"], log=self.run.log_message,
        )  # fmt: skip
        refused: dict[str, BaseException] = {}
        for entry, result in zip(entries, outcomes, strict=True):
            if isinstance(result, BaseException):
                refused[entry["checksum"]] = result
            else:
                records[entry["checksum"]] = result
        rows, made = self.stored(units, sums, records, refused, set(send))
        self.make_units(rows, made)

    # -- the rules --------------------------------------------------------------------------------

    def passes(self, unit: Unit) -> bool:
        """Whether a unit's files keep the collection's rules (required, known, allowed extension)."""
        problems: list[tuple[Path | None, str, str]] = []
        for spec in self.specs.values():
            if spec.is_required and spec.name not in unit.files:
                what = f"data unit '{unit.label}' has no '{spec.name}' file, which is required"
                problems.append((None, spec.name, f"{what}; add it or make the specification optional"))
        for name, path in unit.files.items():
            known = self.specs.get(name)
            if known is None:
                names = ", ".join(self.specs)
                problems.append((path, name, f"{path}: '{name}' is not a file specification of the "
                                             f"collection (it has {names})"))  # fmt: skip
            elif known.extensions and os.path.splitext(path)[1].lower() not in known.extensions:
                allowed = ", ".join(known.extensions)
                problems.append((path, name, f"{path}: '{path.suffix}' is not an allowed extension for "
                                             f"'{name}' files (allowed: {allowed})"))  # fmt: skip
        return self.fail_unit(unit, problems)

    def hashed(self, unit: Unit, sums: dict[Path, Any]) -> bool:
        """Whether every file of a unit was hashed (not gone, not unreadable, not too large)."""
        problems: list[tuple[Path | None, str, str]] = [
            (path, spec, str(sums[path]))
            for spec, path in unit.files.items()
            if isinstance(sums[path], BaseException)
        ]
        return self.fail_unit(unit, problems)

    def fail_unit(self, unit: Unit, problems: list[tuple[Path | None, str, str]]) -> bool:
        """Fail a unit for ``problems`` (its other files are not sent without it); False if any."""
        if not problems:
            return True
        bad = {path for path, _, _ in problems}
        for path, spec, message in problems:
            self.file_failed(path, spec, unit.label, message)
        for spec, path in unit.files.items():
            if path not in bad:
                reason = f"data unit '{unit.label}' failed ({problems[0][2]})"
                self.file_failed(path, spec, unit.label, reason)
        self.tally.units["failed"] += 1
        return False

    # -- after sending ----------------------------------------------------------------------------

    def stored(
        self, units: list[Unit], sums: dict[Path, Any], records: dict[str, dict[str, Any]],
        refused: dict[str, BaseException], sent: set[str],
    ) -> tuple[list[dict[str, Any]], list[Unit]]:  # fmt: skip
        """Count and log each file; the data unit rows of the units whose files are all stored."""
        rows, kept, counted = [], [], set()
        log, collection = self.run.log_data_file, self.target.collection["id"]
        for unit in units:
            error = next(((p, s) for s, p in unit.files.items() if sums[p][0] in refused), None)
            if error is not None:
                path, spec = error
                exc = refused[sums[path][0]]
                self.fail_unit(unit, [(path, spec, f"{path}: {type(exc).__name__}: {exc}")])
                continue
            files = {}
            for spec, path in unit.files.items():
                sha, size = sums[path]
                record = records[sha]
                files[spec] = {"data_file": record["id"], "path": record["path"], "checksum": sha}
                if sha in sent and sha not in counted:
                    counted.add(sha)
                    status = UploadStatus.SUCCESS
                    self.tally.bytes_sent += size
                else:
                    status = UploadStatus.SKIPPED
                self.tally.files[status] += 1
                log({"path": str(path), "spec": spec, "checksum": sha, "data_file": record["id"]}, status)
            checksum = unit_checksum(files)
            rows.append(
                {"data_collection": collection, "files": files, "meta": unit.meta, "checksum": checksum}
            )
            kept.append(unit)
        return rows, kept

    def make_units(self, rows: list[dict[str, Any]], units: list[Unit]) -> None:
        """The data units of ``rows`` (found or created), and a task each in the project."""
        if not rows:
            return
        size = self.params["creating_data_unit_batch_size"]
        by_sum, created = ensure_data_units(self.client, self.target.collection["id"], rows, size)
        self.tally.units["created"] += len(created)
        self.tally.units["existing"] += len(rows) - len(created)
        ids = [by_sum[row["checksum"]]["id"] for row in rows]
        for row, unit_id, unit in zip(rows, ids, units, strict=True):
            status = UploadStatus.SUCCESS if row["checksum"] in created else UploadStatus.SKIPPED
            self.run.log_data_unit(unit_id, status, {"key": unit.label})
        if self.target.project is not None:
            made = ensure_tasks(self.client, self.target.project["id"], ids)
            self.tally.tasks["created"] += made
            self.tally.tasks["existing"] += len(set(ids)) - made

    # -- helpers ----------------------------------------------------------------------------------

    def unit(self, group: dict[str, Any]) -> Unit:
        """A returned group as a ``Unit``: its files as paths, named by its primary file's stem."""
        files = {
            spec: value if isinstance(value, Path) else Path(value) for spec, value in group["files"].items()
        }
        path = files.get(self.primary) or next(iter(files.values()), None)
        label = os.path.splitext(path.name)[0] if path is not None else "?"
        return Unit(label, files, dict(group.get("meta") or {}))

    def file_failed(self, path: Path | None, spec: str | None, unit: str | None, message: str) -> None:
        """Count, keep and log one failed file."""
        self.tally.fail_file(path, spec, unit, message)
        shown = None if path is None else str(path)
        self.run.log_data_file({"path": shown, "spec": spec, "error": message}, UploadStatus.FAILED)

    def report(self, final: bool = False) -> None:
        """Progress per phase, and the counts as metrics (``data_file``, ``data_unit``)."""
        tally, run = self.tally, self.run
        total, done = max(self.total_groups, 1), min(tally.groups_done, self.total_groups)
        files_done = min(sum(tally.files.values()), self.total_files)
        run.set_progress(files_done if self.total_files else 1, max(self.total_files, 1), category="upload")
        run.set_progress(done if self.total_groups else 1, total, category="data_units")
        if self.target.project is not None:
            run.set_progress(done if self.total_groups else 1, total, category="tasks")
        files = {str(k): v for k, v in tally.files.items()}
        run.set_metrics({**files, "stand_by": max(self.total_files - files_done, 0)}, category="data_file")
        run.set_metrics({**tally.units, "stand_by": max(self.total_groups - done, 0)}, category="data_unit")
