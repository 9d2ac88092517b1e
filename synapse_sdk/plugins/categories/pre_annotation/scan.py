"""The work ``PreAnnotationAction.start()`` does: read each unit's image, decide, mark, report.

Units are read in id order, so the first of two duplicates is the one kept. Only kept images are
remembered (file checksum, pixel digest, dHash), so memory is a few dozen bytes per unit. A unit
whose decision cannot be made or written (the plugin's ``check_unit`` raised, the platform refused
the update) fails alone: it is left unmarked, counted and listed in the report. If every unit
fails the run fails; if some do it succeeds with the counts and one warning.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import ExecutionError, SynapseError
from synapse_sdk.plugins.categories.pre_annotation.duplicates import HashIndex
from synapse_sdk.plugins.categories.pre_annotation.images import (
    Fix,
    Unreadable,
    dhash,
    encoded,
    fixed,
    load_image,
    pixel_digest,
)
from synapse_sdk.plugins.categories.pre_annotation.units import get_collection, image_spec, update_unit

if TYPE_CHECKING:
    from PIL import Image

    from synapse_sdk.plugins.categories.pre_annotation.pre_annotation import PreAnnotationAction

#: The report of every decision, in the run's folder.
REPORT_FILE: Final = "pre_annotation_report.json"
#: Units between two progress reports.
STEP: Final = 25


class Scan:
    """One pre-annotation pass over a collection (see the module docstring)."""

    def __init__(self, action: PreAnnotationAction) -> None:
        self.action, self.client, self.run, self.params = action, action.client, action.run, action.params
        self.collection = get_collection(self.client, self.params["data_collection"])
        self.spec = image_spec(self.collection, self.params.get("spec"))
        threshold = self.params["near_duplicate_threshold"]
        self.near: HashIndex[int] | None = HashIndex(threshold) if threshold >= 0 else None
        self.by_file: dict[str, int] = {}
        self.by_pixels: dict[str, int] = {}
        self.decisions: list[dict[str, Any]] = []
        self.metas: dict[int, dict[str, Any]] = {}
        self.files: dict[int, dict[str, Any]] = {}
        self.failed = 0
        self.fixed = 0

    def execute(self) -> dict[str, Any]:
        """Scan, mark, report; the summary."""
        units, total = self.client.list_data_units({"data_collection": self.collection["id"]}, list_all=True)
        self.run.log_message(
            f"Checking {total} data unit(s) of collection {self.collection['id']} "
            f"{self.collection['name']!r} (specification {self.spec!r})"
        )
        self.run.set_progress(0, max(total, 1), category="scan")
        for done, unit in enumerate(units, 1):
            try:
                decision = self.decide(unit)
            except Exception as exc:  # noqa: BLE001 - a unit's failure is reported, never the run's
                decision = self.failure(unit["id"], "deciding", exc)
            self.decisions.append(decision)
            if decision["status"] != "failed":
                self.metas[unit["id"]] = dict(unit.get("meta") or {})
            if "fixed" in decision:
                fixed = decision["fixed"]
                entry = {key: fixed[key] for key in ("data_file", "path", "checksum")}
                self.files[unit["id"]] = {**unit["files"], self.spec: entry}
            if done % STEP == 0:
                self.report_progress("scan", done, total)
        self.report_progress("scan", len(self.decisions), total)
        self.mark()
        return self.outcome(total)

    # -- deciding ---------------------------------------------------------------------------------

    def decide(self, unit: dict[str, Any]) -> dict[str, Any]:
        """The decision on one unit: kept, or dropped with a reason (see ``pre_annotation.py``)."""
        entry = (unit.get("files") or {}).get(self.spec)
        if entry is None:
            return drop(unit["id"], None, "missing_file", f"the unit has no {self.spec!r} file")
        file_id = entry["data_file"]
        try:
            with self.client.open_data_file(file_id) as stream:
                data = stream.read()
        except (SynapseError, OSError) as exc:
            return drop(unit["id"], file_id, "unreadable", f"cannot read data file {file_id}: {exc}")
        checksum = entry.get("checksum") or hashlib.sha256(data).hexdigest()
        if checksum in self.by_file:
            return drop(
                unit["id"], file_id, "duplicate", "the same file", duplicate_of=self.by_file[checksum]
            )
        try:
            image = load_image(data)
        except Unreadable as exc:
            return drop(unit["id"], file_id, "unreadable", str(exc))
        upright, fix = fixed(
            image, fix_orientation=self.params["fix_orientation"], max_side=self.params["max_side"]
        )
        digest = pixel_digest(upright)
        if digest in self.by_pixels:
            return drop(
                unit["id"], file_id, "duplicate", "the same pixels", duplicate_of=self.by_pixels[digest]
            )
        bits = dhash(upright)
        if self.near is not None and (close := self.near.nearest(bits)) is not None:
            other, distance = close
            return drop(
                unit["id"], file_id, "near_duplicate", f"dHash {distance} bit(s) from unit {other}",
                duplicate_of=other, distance=distance,
            )  # fmt: skip
        reason = self.action.check_unit(unit, upright)
        if reason is not None:
            return drop(unit["id"], file_id, str(reason), "check_unit")
        self.by_file[checksum] = self.by_pixels[digest] = unit["id"]
        if self.near is not None:
            self.near.add(bits, unit["id"])
        decision = {"data_unit": unit["id"], "data_file": file_id, "status": "kept", "reason": None}
        if fix:
            decision["fixed"] = self.store_fixed(unit, entry, upright, image.format, fix)
        else:  # the unit points at the copy an earlier run made: keep the record of its original
            earlier = ((unit.get("meta") or {}).get("pre_annotation") or {}).get("fixed")
            if isinstance(earlier, dict) and earlier.get("data_file") == file_id:
                decision["fixed"] = earlier
                self.fixed += 1  # the same decision as that run's, nothing stored again
        return decision

    def store_fixed(
        self, unit: dict[str, Any], entry: dict[str, Any], upright: Image.Image, format: str | None, fix: Fix
    ) -> dict[str, Any]:  # noqa: A002 - Pillow's word
        """Store the fixed image as a new data file (the original stays); what was done and where."""
        original = self.client.get_data_file(entry["data_file"])
        data, suffix = encoded(upright, format)
        folder = Path(self.run.path) / "fixed"
        folder.mkdir(parents=True, exist_ok=True)
        stem = Path(original.get("name") or f"unit-{unit['id']}").stem
        path = folder / f"{unit['id']}-{stem}{suffix}"
        path.write_bytes(data)
        record = self.client.create_data_file(path, storage=self.params["storage"] or original["storage"])
        path.unlink()
        self.fixed += 1
        self.by_file[record["checksum"]] = unit["id"]
        return {
            "orientation": fix.orientation,
            "resized_from": list(fix.resized_from) if fix.resized_from else None,
            "size": list(upright.size),
            "data_file": record["id"],
            "path": record["path"],
            "checksum": record["checksum"],
            "original_data_file": entry["data_file"],
        }

    def failure(self, unit_id: int, step: str, exc: BaseException) -> dict[str, Any]:
        """A unit that failed: logged and counted, never marked."""
        self.failed += 1
        message = f"{type(exc).__name__}: {exc}"
        self.run.log_message(f"data unit {unit_id}: {step} failed: {message}", "ERROR")
        return {"data_unit": unit_id, "status": "failed", "reason": None, "error": f"{step}: {message}"}

    # -- marking ----------------------------------------------------------------------------------

    def mark(self) -> None:
        """Write each decision into its unit's ``meta.pre_annotation``."""
        marked = [d for d in self.decisions if d["status"] != "failed"]
        self.run.set_progress(0, max(len(marked), 1), category="mark")
        for done, decision in enumerate(marked, 1):
            unit_id = decision["data_unit"]
            record = {key: value for key, value in decision.items() if key not in ("data_unit", "data_file")}
            record["run"] = self.run.id
            try:
                meta = {**self.metas.pop(unit_id), "pre_annotation": record}
                update_unit(self.client, unit_id, meta, self.files.pop(unit_id, None))
            except Exception as exc:  # noqa: BLE001 - as above: this unit fails, the others go on
                decision.update(self.failure(unit_id, "marking", exc))
            if done % STEP == 0 or done == len(marked):
                self.run.set_progress(done, len(marked), category="mark")
        if not marked:
            self.run.set_progress(1, 1, category="mark")

    # -- reporting --------------------------------------------------------------------------------

    def report_progress(self, category: str, done: int, total: int) -> None:
        """Progress of ``category`` and the counts so far as the ``data_unit`` metrics."""
        self.run.set_progress(done if total else 1, max(total, 1), category=category)
        counts = Counter(d["status"] for d in self.decisions)
        self.run.set_metrics(
            {"kept": counts["kept"], "dropped": counts["dropped"], "failed": counts["failed"],
             "stand_by": max(total - done, 0)},
            category="data_unit",
        )  # fmt: skip

    def outcome(self, total: int) -> dict[str, Any]:
        """Write the report; the summary, or ``ExecutionError`` when every unit failed."""
        counts = Counter(d["status"] for d in self.decisions)
        reasons = Counter(d["reason"] for d in self.decisions if d["status"] == "dropped")
        report = Path(self.run.path) / REPORT_FILE
        summary = {
            "data_collection": self.collection["id"],
            "spec": self.spec,
            "total": total,
            "kept": counts["kept"],
            "dropped": counts["dropped"],
            "failed": counts["failed"],
            "reasons": dict(sorted(reasons.items())),
            "fixed": self.fixed,
            "report_file": str(report),
        }
        report.write_text(
            json.dumps({"summary": summary, "params": self.params, "units": self.decisions}, indent=1),
            encoding="utf-8",
        )
        self.report_progress("scan", len(self.decisions), total)
        shown = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common()) or "none"
        line = f"{counts['kept']} kept, {counts['dropped']} dropped ({shown}), {counts['failed']} failed"
        if total == 0:
            self.run.log_message(
                f"Nothing to prepare: collection {self.collection['id']} has no data units", "WARNING"
            )
            return summary
        self.run.log_message(
            f"Pre-annotation finished: {line}; {self.fixed} image(s) fixed; report: {report}"
        )
        if counts["failed"] == total:
            first = next(d["error"] for d in self.decisions if d["status"] == "failed")
            raise ExecutionError(f"every data unit failed ({line}): {first}; see {report}")
        if counts["failed"]:
            self.run.log_message(
                f"{counts['failed']} of {total} data unit(s) failed and were left unmarked; see {report}",
                "WARNING",
            )
        return summary


def drop(
    unit_id: int, file_id: int | None, reason: str, detail: str, *,
    duplicate_of: int | None = None, distance: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A dropped unit's decision."""
    decision: dict[str, Any] = {
        "data_unit": unit_id, "data_file": file_id, "status": "dropped", "reason": reason, "detail": detail,
    }  # fmt: skip
    if duplicate_of is not None:
        decision["duplicate_of"] = duplicate_of
    if distance is not None:
        decision["distance"] = distance
    return decision
