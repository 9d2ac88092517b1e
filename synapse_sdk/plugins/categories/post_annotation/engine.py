"""The work ``PostAnnotationAction.start()`` does: per task merge, write back, tally; then report.

Tasks stream from the platform a page at a time (``PlatformItems``: each with its primary file's
checksum), with one listing of the page's submitted and approved assignments. A task that fails
(a malformed annotation, a refused update) fails alone: it is counted, named in the report and
logged. If every task fails the run fails; if some do, it succeeds with the counts and one warning.
"""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import ExecutionError
from synapse_sdk.plugins.categories.post_annotation.agreement import kappa

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.post_annotation.consensus import TaskConsensus, Unit
    from synapse_sdk.plugins.categories.post_annotation.post_annotation import PostAnnotationAction

#: The report in the run's folder.
REPORT_NAME: Final = "post_annotation_report.json"
#: The tag a task that needs review gets.
NEEDS_REVIEW: Final = "needs_review"
#: Tasks per page of assignment lookups.
PAGE: Final = 200


def post_annotate(action: PostAnnotationAction) -> dict[str, Any]:
    """Merge every task of the project, write the report and the ground truth; the summary."""
    from synapse_sdk.plugins.categories.export.targets.platform import PlatformItems
    from synapse_sdk.plugins.categories.post_annotation.ground_truth import write_ground_truth

    run, params, client = action.run, action.params, action.client
    project = client.get_project(params["project"])
    tasks = PlatformItems(client, "task", {"project": project["id"]})
    total = len(tasks)
    run.log_message(
        f"Merging the annotations of {total} task(s) of project {project['id']} {project['title']!r}"
    )
    records: list[dict[str, Any]] = []
    reviewed: list[tuple[dict[str, Any], dict[str, Any]]] = []
    units: list[Unit] = []
    done = 0
    stream = iter(tasks)
    while page := list(islice(stream, PAGE)):
        found, _ = client.list_assignments(
            {"task": [t["id"] for t in page], "status": ["submitted", "approved"]}, list_all=True
        )
        by_task: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for assignment in found:
            by_task[assignment["task"]].append(assignment)
        for task in page:
            record, consensus = _task(action, task, by_task.get(task["id"], []))
            records.append(record)
            if consensus is not None:
                units.extend(consensus.units)
                if record["status"] == "reviewed":
                    reviewed.append((task, consensus.data))
            done += 1
            run.set_progress(done, max(total, 1), category="consensus")
    counts = {
        s: sum(r["status"] == s for r in records) for s in ("reviewed", "needs_review", "skipped", "failed")
    }
    version = None
    if params["ground_truth"] and reviewed:
        version = write_ground_truth(action, project, reviewed, records)
    summary = _summary(project, records, units, counts, version)
    report = Path(run.path) / REPORT_NAME
    document = {"summary": summary, "classes": per_class(units), "tasks": records}
    report.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    summary["report"] = str(report)
    metrics = {k: summary[k] for k in ("tasks", *counts, "mean_agreement", "kappa") if summary[k] is not None}
    run.set_metrics(metrics, "agreement")
    return _outcome(action, summary, records)


def _task(
    action: PostAnnotationAction, task: dict[str, Any], assignments: list[dict[str, Any]]
) -> tuple[dict[str, Any], TaskConsensus | None]:
    """Merge one task and write it back; its report record (and consensus, unless skipped or failed)."""
    params = action.params
    latest: dict[str, dict[str, Any]] = {}
    for assignment in sorted(assignments, key=lambda a: a["id"]):  # an annotator's latest one counts
        latest[str(assignment.get("annotator") or f"assignment {assignment['id']}")] = assignment
    annotators = sorted(latest)
    record: dict[str, Any] = {
        "task": task["id"],
        "data_unit": task.get("data_unit"),
        "annotators": annotators,
    }
    if len(annotators) < params["min_annotators"]:
        record["status"] = "skipped"
        record["reason"] = (
            f"{len(annotators)} annotator(s), fewer than min_annotators {params['min_annotators']}"
        )
        return record, None
    try:
        consensus = action.merge_task([(name, latest[name].get("data")) for name in annotators])
        passed = action.is_reviewed(consensus)
        tags = [tag for tag in task.get("tags") or [] if tag != NEEDS_REVIEW]
        status = "reviewed" if passed else "rejected"
        action.client.update_task(
            task["id"],
            {"data": consensus.data, "status": status, "tags": tags if passed else [*tags, NEEDS_REVIEW]},
        )
    except Exception as exc:  # noqa: BLE001 - one bad task must not stop the others
        message = f"task {task['id']}: {type(exc).__name__}: {exc}"
        action.run.log_message(message, "ERROR")
        record.update(status="failed", error=message)
        return record, None
    record.update(
        status="reviewed" if passed else NEEDS_REVIEW,
        agreement=_round(consensus.agreement),
        kappa=_round(consensus.kappa),
        mean_iou=_round(consensus.mean_iou),
        match_rate=_round(consensus.match_rate),
        objects=sum(u.tool == "bounding_box" for u in consensus.units),
        kept=sum(u.tool == "bounding_box" and u.consensus is not None for u in consensus.units),
    )
    return record, consensus


def per_class(units: list[Unit]) -> dict[str, dict[str, Any]]:
    """Per class (the units' majority label): objects, kept, mean IoU of matched boxes, match rate
    (the share of annotators who gave it) and one-vs-rest kappa over every unit."""
    classes: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        if unit.majority is not None:
            classes[unit.majority].append(unit)
    pooled = _same_raters(units)
    out = {}
    for name in sorted(classes):
        found = classes[name]
        ious = [value for unit in found for value in unit.ious]
        out[name] = {
            "objects": len(found),
            "kept": sum(unit.consensus is not None for unit in found),
            "mean_iou": _round(sum(ious) / len(ious)) if ious else None,
            "match_rate": _round(sum(u.labels.count(name) / len(u.labels) for u in found) / len(found)),
            "kappa": _round(kappa([[label == name for label in u.labels] for u in units]))
            if pooled
            else None,
        }
    return out


def _same_raters(units: list[Unit]) -> bool:
    return bool(units) and len({len(unit.labels) for unit in units}) == 1


def _summary(
    project: dict[str, Any], records: list[dict[str, Any]], units: list[Unit], counts: dict[str, int],
    version: dict[str, Any] | None,
) -> dict[str, Any]:  # fmt: skip
    merged = [r for r in records if "agreement" in r]
    kappas = [r["kappa"] for r in merged if r["kappa"] is not None]
    pooled = kappa([u.labels for u in units]) if _same_raters(units) else None
    return {
        "project": project["id"],
        "tasks": len(records),
        **counts,
        "mean_agreement": _round(sum(r["agreement"] for r in merged) / len(merged)) if merged else None,
        # Pooled over every object when all tasks have as many annotators, else the tasks' mean.
        "kappa": _round(pooled)
        if pooled is not None
        else _round(sum(kappas) / len(kappas))
        if kappas
        else None,
        **(version or {"ground_truth_dataset": None, "ground_truth_version": None, "splits": {}}),
    }


def _outcome(
    action: PostAnnotationAction, summary: dict[str, Any], records: list[dict[str, Any]]
) -> dict[str, Any]:
    run = action.run
    counts = (
        f"{summary['reviewed']} reviewed, {summary['needs_review']} need review, "
        f"{summary['skipped']} skipped, {summary['failed']} failed"
    )
    tried = summary["tasks"] - summary["skipped"]
    if not tried and not summary["failed"]:
        run.log_message(
            f"Nothing to merge: no task of project {summary['project']} has "
            f"{action.params['min_annotators']} or more submitted or approved assignments",
            "WARNING",
        )
        return summary
    run.log_message(f"Post-annotation finished: {counts}; report: {summary['report']}")
    if summary["failed"] and summary["failed"] == tried:
        first = next(r["error"] for r in records if r["status"] == "failed")
        raise ExecutionError(f"every task failed ({counts}): {first}; see {summary['report']}")
    if summary["failed"]:
        run.log_message(
            f"{summary['failed']} of {tried} task(s) failed; they are listed in {summary['report']}",
            "WARNING",
        )
    return summary


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
