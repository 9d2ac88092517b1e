"""The loop ``AutoLabelAction.start()`` runs: tasks in batches, the model once per batch, predictions written.

The project's tasks stream from the platform a page at a time (``TaskItems``). Per batch of
``batch_size`` tasks: each task's primary file is read; the model's ``predict`` runs once over
the batch (if it raises, each image is tried alone, so one bad image fails its task only); each
detection at or above ``score_threshold`` whose label maps to a class becomes a box; the boxes
are written as the task's prediction of this source (``task["predictions"]``), replacing the
one an earlier run wrote, and with ``overwrite_annotations`` as the task's ``data`` too.

A task without a primary file is skipped; one whose file cannot be read, whose image the model
cannot take, or whose write is refused, fails alone: counted, logged, listed in
``auto_label_errors.json`` in the run's folder. Every failed -> ``ExecutionError`` (exit 1); some ->
the run succeeds with the counts and one warning.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import ExecutionError
from synapse_sdk.plugins.categories.export.targets.platform import PlatformItems
from synapse_sdk.plugins.categories.smart_tool.detection import Detection, ImageInput

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.smart_tool.auto_label import AutoLabelAction

#: The file listing every failed task, in the run's folder.
ERROR_FILE_NAME: Final = "auto_label_errors.json"
#: The most predictions a task keeps (the platform's bound); the oldest other sources go first.
MAX_PREDICTIONS: Final = 100
#: The progress category.
CATEGORY: Final = "auto_label"


class TaskItems(PlatformItems):
    """A project's tasks as export items (``files`` = the primary file), with their ``predictions``."""

    def _items(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items = super()._items(records)
        for item, record in zip(items, records, strict=True):
            item["predictions"] = list(record.get("predictions") or [])
        return items


@dataclass
class Tally:
    """Counts of tasks and boxes, and the failed tasks."""

    labelled: int = 0
    empty: int = 0
    skipped: int = 0
    failed: int = 0
    boxes_written: int = 0
    boxes_below_threshold: int = 0
    boxes_unmatched: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.labelled + self.empty + self.skipped + self.failed

    def metrics(self) -> dict[str, int]:
        return {
            "tasks_labelled": self.labelled, "tasks_empty": self.empty, "tasks_skipped": self.skipped,
            "tasks_failed": self.failed, "boxes_written": self.boxes_written,
            "boxes_below_threshold": self.boxes_below_threshold, "boxes_unmatched": self.boxes_unmatched,
        }  # fmt: skip


class AutoLabelLoop:
    """One auto_label run over a project's tasks (see the module docstring)."""

    def __init__(self, action: AutoLabelAction, mapping: Mapping[str, str], classes: Sequence[str]) -> None:
        self.action = action
        self.run = action.run
        self.client = action.client
        self.params = action.params
        self.mapping = dict(mapping)
        self.classes = list(classes)
        self.source = action.prediction_source()
        self.threshold = float(self.params["score_threshold"])
        self.tally = Tally()

    def tasks(self) -> tuple[int, Iterator[dict[str, Any]]]:
        """How many tasks will be labelled, and the tasks."""
        filters: dict[str, Any] = {"project": self.params["project"], **(self.params.get("filter") or {})}
        if self.params.get("status") is not None:
            filters["status"] = self.params["status"]
        items = TaskItems(self.client, "task", filters)
        total, limit = len(items), self.params.get("limit")
        if limit is not None:
            total = min(total, limit)
        return total, islice(iter(items), total)

    def run_all(self) -> Tally:
        """Label every task; the counts."""
        total, tasks = self.tasks()
        self.total = total
        self.run.log_message(
            f"Labelling {total} task(s) of project {self.params['project']} with {self.source} "
            f"(labels: {', '.join(f'{k} -> {v}' for k, v in self.mapping.items())}; "
            f"score >= {self.threshold})"
        )
        self.run.set_progress(0, total, CATEGORY)
        size = int(self.params["batch_size"])
        while batch := list(islice(tasks, size)):
            self.batch(batch)
            self.run.set_progress(self.tally.done, total, CATEGORY)
            self.run.set_metrics(self.tally.metrics(), CATEGORY)
        return self.tally

    # -- one batch --------------------------------------------------------------------------------

    def batch(self, tasks: list[dict[str, Any]]) -> None:
        images: list[tuple[dict[str, Any], ImageInput]] = []
        for task in tasks:
            files = task.get("files") or {}
            if not files.get("data_file"):
                self.tally.skipped += 1
                continue
            try:
                with self.client.open_data_file(files["data_file"]) as stream:
                    content = stream.read()
            except Exception as exc:  # noqa: BLE001 - an unreadable file fails its task only
                self.fail(task, "read", exc)
                continue
            name = files.get("file_name_original") or str(files.get("path") or files["data_file"])
            image = ImageInput(task["id"], name, content, files.get("width"), files.get("height"))
            images.append((task, image))
        if not images:
            return
        for (task, image), found in zip(images, self.predict([i for _, i in images]), strict=True):
            if isinstance(found, BaseException):
                self.fail(task, "predict", found)
            else:
                self.write(task, image, found)

    def predict(self, images: list[ImageInput]) -> list[list[Detection] | Exception]:
        """The model over the batch; if that raises, over each image alone (failures kept per image)."""
        try:
            found: list[list[Detection] | Exception] = list(self.action.predict(images))
            if len(found) != len(images):
                raise ValueError(f"predict() gave {len(found)} result(s) for {len(images)} image(s)")
            return found
        except Exception as exc:  # noqa: BLE001 - isolate the image(s) that fail
            if len(images) == 1:
                return [exc]
        results: list[list[Detection] | Exception] = []
        for image in images:
            results.extend(self.predict([image]))
        return results

    def write(self, task: dict[str, Any], image: ImageInput, found: Sequence[Detection]) -> None:
        """The task's prediction of this source: its boxes at or above the threshold, with their scores."""
        boxes: list[dict[str, Any]] = []
        scores: dict[str, float] = {}
        try:
            for detection in found:
                if not isinstance(detection, Detection):
                    raise TypeError(f"predict() gave {detection!r:.60}; return Detection objects")
                if detection.score < self.threshold:
                    self.tally.boxes_below_threshold += 1
                    continue
                target = self.mapping.get(detection.label)
                if target is None:
                    self.tally.boxes_unmatched += 1
                    continue
                box = _clipped(detection.box, image.width, image.height)
                if box is None:
                    continue
                box_id = f"p{len(boxes) + 1}"
                boxes.append({"id": box_id, "classification": target, "attrs": [], "data": box})
                scores[box_id] = round(detection.score, 4)
            data = {"classification": {"bounding_box": self.classes}, "images": [{"bounding_box": boxes}]}
            prediction = {
                "source": self.source, "data": data, "scores": scores,
                "score": round(sum(scores.values()) / len(scores), 4) if scores else None, "run": self.run.id,
            }  # fmt: skip
            kept = [p for p in task.get("predictions") or [] if p.get("source") != self.source]
            change: dict[str, Any] = {"predictions": [*kept[-(MAX_PREDICTIONS - 1) :], prediction]}
            if self.params["overwrite_annotations"]:
                change["data"] = data
            self.client.update_task(task["id"], change)
        except Exception as exc:  # noqa: BLE001 - a refused write fails its task only
            self.fail(task, "write", exc)
            return
        if boxes:
            self.tally.labelled += 1
            self.tally.boxes_written += len(boxes)
        else:
            self.tally.empty += 1

    def fail(self, task: Mapping[str, Any], step: str, error: BaseException) -> None:
        message = str(error) if isinstance(error, OSError) else f"{type(error).__name__}: {error}"
        self.tally.failed += 1
        self.tally.errors.append({"task": task["id"], "step": step, "error": message})
        self.run.log_message(f"task {task['id']}: {step} failed: {message}", "ERROR")


def _clipped(box: Sequence[float], width: int | None, height: int | None) -> list[float] | None:
    """``box`` inside the image (when its size is known); None when nothing of it is left."""
    x, y, w, h = (float(v) for v in box)
    if width and height:
        x2, y2 = min(x + w, float(width)), min(y + h, float(height))
        x, y = max(x, 0.0), max(y, 0.0)
        w, h = x2 - x, y2 - y
    return [x, y, w, h] if w > 0 and h > 0 else None


def outcome(loop: AutoLabelLoop, tally: Tally) -> dict[str, Any]:
    """The run's summary; ``ExecutionError`` when every task tried failed, one warning when some did."""
    run = loop.run
    error_file = None
    if tally.errors:
        error_file = Path(run.path) / ERROR_FILE_NAME
        error_file.write_text(json.dumps(tally.errors, indent=2, ensure_ascii=False), encoding="utf-8")
    summary = {
        "project": loop.params["project"],
        "source": loop.source,
        "label_map": loop.mapping,
        "score_threshold": loop.threshold,
        "tasks": tally.done,
        **tally.metrics(),
        "overwrote_annotations": bool(loop.params["overwrite_annotations"]),
        "error_file_list": None if error_file is None else str(error_file),
    }
    counts = (
        f"{tally.labelled} task(s) labelled, {tally.empty} with no box, {tally.skipped} skipped, "
        f"{tally.failed} failed; {tally.boxes_written} box(es) written"
    )
    if tally.done == 0:
        project = loop.params["project"]
        run.log_message(f"Nothing to label: project {project} has no task that matches", "WARNING")
        return summary
    run.log_message(f"Auto-label finished: {counts}")
    if tally.failed and tally.failed == tally.done - tally.skipped:
        raise ExecutionError(f"every task failed ({counts}): {tally.errors[0]['error']}; see {error_file}")
    if tally.failed:
        run.log_message(
            f"{tally.failed} of {tally.done} task(s) failed; they are listed in {error_file}", "WARNING"
        )
    return summary
