"""The work ``ToTaskAction.start()`` does: stream the units, create the missing tasks batch by batch.

Memory is the project's existing tasks (data unit -> task id and prediction sources) and one
batch; the units and the predictions file stream past. A batch the platform refuses fails alone:
its units are counted and the first error logged. If every selected unit fails the run fails;
if some do it succeeds with the counts and one warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.clients.backend.imports.lookup import find
from synapse_sdk.errors import ExecutionError, ParamsError, ResourceConflict, ResourceNotFound, SynapseError
from synapse_sdk.plugins.categories.pre_annotation.to_task import ToTaskAction
from synapse_sdk.plugins.categories.pre_annotation.units import get_collection, matcher, normalized_filter

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.pre_annotation.predictions import Predictions


class TaskMaker:
    """One ``to_task`` run (see the module docstring)."""

    def __init__(self, action: ToTaskAction) -> None:
        self.action, self.client, self.run, self.params = action, action.client, action.run, action.params
        try:
            self.project = self.client.get_project(self.params["project"])
        except ResourceNotFound:
            raise ParamsError(
                f"params.project: there is no project {self.params['project']}; give a project id "
                "(`synapse data projects list` shows them)"
            ) from None
        collection_id = self.params.get("data_collection") or self.project.get("data_collection")
        if collection_id is None:
            raise ParamsError(
                f"params.data_collection: project {self.project['id']} has no data collection; give one"
            )
        if self.project.get("data_collection") not in (None, collection_id):
            raise ParamsError(
                f"params.data_collection: project {self.project['id']} is over data collection "
                f"{self.project['data_collection']}, not {collection_id}; leave it out or give that one"
            )
        self.collection = get_collection(self.client, collection_id)
        self.wanted = normalized_filter(self.params.get("meta_filter"))
        self.predictions = self._predictions()
        self.counts = {
            "selected": 0,
            "created": 0,
            "existing": 0,
            "skipped": 0,
            "failed": 0,
            "predictions_added": 0,
        }
        self.first_error: str | None = None
        #: Whether the plugin keeps the base ``make_task`` (then tasks are built in one comprehension).
        self.plain = type(action).make_task is ToTaskAction.make_task

    def _predictions(self) -> Predictions | None:
        given = self.params.get("predictions_path")
        if not given:
            return None
        from synapse_sdk.plugins.categories.pre_annotation.predictions import read_predictions

        base = self.action.plugin_path or Path.cwd()
        path = (base / Path(given).expanduser()).resolve()
        found = read_predictions(path, self.params.get("prediction_source"))
        self.run.log_message(f"Read {len(found)} prediction(s) from {path}")
        return found

    def execute(self) -> dict[str, Any]:
        """Create the tasks; the summary."""
        project = self.project["id"]
        existing = self._existing(project)
        units, total = self.client.list_data_units({"data_collection": self.collection["id"]}, list_all=True)
        shown = f" matching {self.wanted}" if self.wanted else ""
        self.run.log_message(
            f"Making tasks in project {project} from the {total} data unit(s) of collection "
            f"{self.collection['id']}{shown} ({len(existing)} task(s) exist already)"
        )
        self.run.set_progress(0, max(total, 1), category="tasks")
        done = 0
        for read, batch in selected_batches(units, self.params["batch_size"], self.wanted):
            done += read
            if batch:
                self._batch(batch, existing)
            self._report(done, total)
        self._report(done, total)
        return self._outcome(total)

    def _existing(self, project: int) -> dict[int, tuple[int, frozenset[str]]]:
        """The project's tasks: data unit -> (task id, the sources of its predictions)."""
        rows, _ = self.client.list_tasks({"project": project}, list_all=True)
        return {
            row["data_unit"]: (row["id"], sources(row)) for row in rows if row.get("data_unit") is not None
        }

    def _batch(self, units: list[dict[str, Any]], existing: dict[int, tuple[int, frozenset[str]]]) -> None:
        """Create the tasks of one batch of selected units; add predictions to existing tasks."""
        self.counts["selected"] += len(units)
        if self.plain and self.predictions is None:  # the common case, without a call per unit
            project = self.project["id"]
            new = [{"project": project, "data_unit": u["id"]} for u in units if u["id"] not in existing]
            self.counts["existing"] += len(units) - len(new)
            if new:
                self._create(new, existing)
            return
        names = self._names(units) if self.predictions is not None and self.predictions.by_name else {}
        new = []
        for unit in units:
            prediction = (
                self.predictions.take(unit["id"], names.get(unit["id"])) if self.predictions else None
            )
            known = existing.get(unit["id"])
            if known is not None:
                self.counts["existing"] += 1
                if prediction is not None and prediction["source"] not in known[1]:
                    self._add_prediction(known[0], prediction)
                continue
            try:
                task = self.action.make_task(unit, prediction)
            except Exception as exc:  # noqa: BLE001 - the plugin's hook fails its unit, not the run
                self._fail(1, f"data unit {unit['id']}: make_task failed: {type(exc).__name__}: {exc}")
                continue
            if task is None:
                self.counts["skipped"] += 1
            else:
                new.append(task)
        if new:
            self._create(new, existing)

    def _create(self, new: list[dict[str, Any]], existing: dict[int, tuple[int, frozenset[str]]]) -> None:
        try:
            try:
                made = self.client.create_tasks(new)
            except ResourceConflict:  # another run created some of them meanwhile: take theirs
                ids = [task["data_unit"] for task in new]
                theirs = {
                    t["data_unit"]
                    for t in find(self.client.list_tasks, {"project": self.project["id"]}, "data_unit", ids)
                }
                self.counts["existing"] += len(theirs)
                new = [task for task in new if task["data_unit"] not in theirs]
                made = self.client.create_tasks(new) if new else []
        except SynapseError as exc:
            self._fail(len(new), f"{len(new)} task(s) refused: {exc}")
            return
        self.counts["created"] += len(made)
        for task in made:
            existing[task["data_unit"]] = (task["id"], sources(task))

    def _add_prediction(self, task_id: int, prediction: dict[str, Any]) -> None:
        try:
            current = self.client.get_task(task_id).get("predictions") or []
            self.client.update_task(task_id, {"predictions": [*current, prediction]})
        except SynapseError as exc:
            self._fail(0, f"task {task_id}: prediction refused: {exc}")
            return
        self.counts["predictions_added"] += 1

    def _names(self, units: list[dict[str, Any]]) -> dict[int, str]:
        """Each unit's file name, to match predictions by: ``meta.file_name``, else its data file's name."""
        spec = next(
            (s["name"] for s in self.collection["file_specifications"] if s.get("is_primary")),
            self.collection["file_specifications"][0]["name"],
        )
        names: dict[int, str] = {}
        ask: dict[int, list[int]] = {}
        for unit in units:
            given = (unit.get("meta") or {}).get("file_name")
            entry = (unit.get("files") or {}).get(spec)
            if isinstance(given, str) and given:
                names[unit["id"]] = Path(given).name
            elif entry is not None:
                ask.setdefault(entry["data_file"], []).append(unit["id"])
        for record in find(self.client.list_data_files, {}, "id", list(ask)):
            for unit_id in ask.get(record["id"], []):
                names[unit_id] = Path(record.get("name") or "").name
        return names

    def _fail(self, count: int, message: str) -> None:
        self.counts["failed"] += count
        self.first_error = self.first_error or message
        self.run.log_message(message, "ERROR")

    def _report(self, done: int, total: int) -> None:
        self.run.set_progress(done if total else 1, max(total, 1), category="tasks")
        self.run.set_metrics({k: self.counts[k] for k in ("created", "existing", "failed")}, category="task")

    def _outcome(self, total: int) -> dict[str, Any]:
        counts = self.counts
        summary: dict[str, Any] = {
            "project": self.project["id"],
            "data_collection": self.collection["id"],
            "data_units": total,
            "selected": counts["selected"],
            "tasks_created": counts["created"],
            "tasks_existing": counts["existing"],
            "tasks_skipped": counts["skipped"],
            "failed": counts["failed"],
            "predictions": None,
        }
        if self.predictions is not None:
            unmatched = len(self.predictions)
            summary["predictions"] = {
                "source": self.predictions.source,
                "matched": self.predictions.used,
                "added_to_existing": counts["predictions_added"],
                "unmatched": unmatched,
            }
            if unmatched:
                sample = ", ".join(map(str, [*self.predictions.by_unit, *self.predictions.by_name][:5]))
                self.run.log_message(
                    f"{unmatched} prediction(s) match no selected data unit (e.g. {sample})", "WARNING"
                )
        line = (
            f"{counts['created']} task(s) created, {counts['existing']} existed, "
            f"{counts['skipped']} skipped, "
            f"{counts['failed']} failed, of {counts['selected']} selected data unit(s)"
        )
        self.run.log_message(f"to_task finished: {line}")
        if counts["selected"] == 0:
            self.run.log_message(
                f"No data unit of collection {self.collection['id']} was selected", "WARNING"
            )
        elif counts["failed"] >= counts["selected"]:
            raise ExecutionError(f"every task failed ({line}): {self.first_error}")
        elif counts["failed"] or self.first_error:
            self.run.log_message(
                f"{counts['failed']} data unit(s) got no task: {self.first_error}", "WARNING"
            )
        return summary


#: The prediction sources of a task without predictions (most of them: one set for all).
_NO_SOURCES: frozenset[str] = frozenset()


def sources(task: dict[str, Any]) -> frozenset[str]:
    """The sources of a task's predictions."""
    predictions = task.get("predictions")
    return frozenset(p.get("source") for p in predictions) if predictions else _NO_SOURCES


def selected_batches(
    units: Iterable[dict[str, Any]], size: int, wanted: dict[str, Any]
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """``(units read, the selected ones)`` per ``size`` selected units (or ``4 x size`` read).

    Read in the caller's thread: a reading thread beside the writes only fought them for the GIL
    (measured slower on the benchmark's 50,000 units).
    """
    selects = matcher(wanted)
    batch: list[dict[str, Any]] = []
    seen = 0
    for unit in units:
        seen += 1
        if selects(unit.get("meta") or {}):
            batch.append(unit)
        if len(batch) >= size or seen >= size * 4:
            yield seen, batch
            batch, seen = [], 0
    yield seen, batch
