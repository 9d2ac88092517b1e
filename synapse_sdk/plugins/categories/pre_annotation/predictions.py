"""A file of a model's predictions read as task pre-annotations: COCO (``.json``) or ours (``.jsonl``).

* **COCO** (``instances.json``, or a detector's results with a ``score`` per annotation): each
  image matched to a data unit by file name; its annotations become DM v2 (``formats/coco.py``),
  each annotation's ``score`` the score of the DM v2 annotations made from it.
* **ours**: one JSON object a line, ``{"data_unit": 12 | "file_name": "a.jpg", "data": <DM v2>,
  "scores": {"b1": 0.93}}``.

The whole file is read and checked before any task is written: a problem is a ``ParamsError``
(exit 2) naming the file, the line (or COCO annotation) and the field. Each prediction becomes a
task's ``predictions`` entry, ``{"source": <the file's name>, "data", "scores", "score"}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from synapse_sdk.errors import AnnotationError, ParamsError
from synapse_sdk.formats.dm import dump, validate_annotation

#: The COCO annotation id inside a DM v2 id made from it (``b12``, ``p12-0``, ``k12-3``).
_COCO_ID: Final = re.compile(r"^[a-z](\d+)(?:-\d+)?$")


@dataclass
class Predictions:
    """The predictions of one file, by data unit id and by file name; :meth:`take` hands each out once."""

    source: str
    by_unit: dict[int, dict[str, Any]] = field(default_factory=dict)
    by_name: dict[str, dict[str, Any]] = field(default_factory=dict)
    used: int = 0

    def __len__(self) -> int:
        return len(self.by_unit) + len(self.by_name)

    def take(self, unit_id: int, name: str | None) -> dict[str, Any] | None:
        """The prediction for a data unit (by id, else by file name), as a task's ``predictions`` entry."""
        found = self.by_unit.pop(unit_id, None)
        if found is None and name is not None:
            found = self.by_name.pop(name, None)
        if found is None:
            return None
        self.used += 1
        return {"source": self.source, **found}


def read_predictions(path: Path, source: str | None = None) -> Predictions:
    """The predictions in ``path`` (``.json``: COCO, ``.jsonl``: ours); ``ParamsError`` if broken."""
    if not path.is_file():
        raise ParamsError(
            f"params.predictions_path: {path}: no such file; give a COCO instances.json or a .jsonl file"
        )
    found = Predictions(source or path.name)
    if path.suffix.lower() == ".json":
        _read_coco(path, found)
    elif path.suffix.lower() == ".jsonl":
        _read_jsonl(path, found)
    else:
        raise ParamsError(
            f"params.predictions_path: {path}: expected a COCO file (.json) or a JSON-lines file (.jsonl), "
            f"got {path.suffix or 'no suffix'!r}"
        )
    return found


def _read_coco(path: Path, found: Predictions) -> None:
    from synapse_sdk.formats.coco import read_coco

    dataset = read_coco(path)  # AnnotationError (a ParamsError) names the file and the annotation
    scores: dict[Any, float] = {}
    for item in json.loads(path.read_bytes()).get("annotations") or []:
        score = item.get("score") if isinstance(item, dict) else None
        if score is not None:
            if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
                raise ParamsError(
                    f"{path}: annotation {item.get('id')}: score: expected 0 to 1, got {score!r}"
                )
            scores[item["id"]] = float(score)
    for image in dataset:
        data = dump(image.annotation)
        by_id = {}
        for number in _ids(data):
            match = _COCO_ID.match(number)
            coco_id = int(match.group(1)) if match else None
            if coco_id in scores:
                by_id[number] = scores[coco_id]
        found.by_name[Path(image.file_name).name] = _entry(data, by_id)


def _read_jsonl(path: Path, found: Predictions) -> None:
    lines: dict[Any, int] = {}
    with path.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ParamsError(f"{where}: not valid JSON: {exc}") from None
            if not isinstance(row, dict):
                raise ParamsError(
                    f"{where}: expected an object like {{'file_name': 'a.jpg', 'data': {{...}}}}"
                )
            unknown = sorted(set(row) - {"data_unit", "file_name", "data", "scores"})
            if unknown:
                raise ParamsError(
                    f"{where}: {unknown[0]}: not a field; the fields are data_unit or file_name, data, scores"
                )
            key = _key(where, row)
            if key in lines:
                raise ParamsError(
                    f"{where}: {key[0]} {key[1]!r} again (first on line {lines[key]}); give one line each"
                )
            lines[key] = number
            if "data" not in row:
                raise ParamsError(f"{where}: data: required, a DM v2 annotation like {{'images': [...]}}")
            try:
                data = dump(validate_annotation(row["data"], where=f"{where}: data"))
            except AnnotationError as exc:
                raise ParamsError(str(exc)) from None
            scores = _scores(where, row.get("scores"), _ids(data))
            target = found.by_unit if key[0] == "data_unit" else found.by_name
            target[key[1]] = _entry(data, scores)


def _key(where: str, row: dict[str, Any]) -> tuple[str, Any]:
    unit, name = row.get("data_unit"), row.get("file_name")
    if (unit is None) == (name is None):
        raise ParamsError(f"{where}: give one of data_unit (an id) or file_name (like 'a.jpg')")
    if unit is not None:
        if isinstance(unit, bool) or not isinstance(unit, int) or unit < 1:
            raise ParamsError(f"{where}: data_unit: expected a data unit id like 12, got {unit!r}")
        return ("data_unit", unit)
    if not isinstance(name, str) or not name:
        raise ParamsError(f"{where}: file_name: expected a file name like 'a.jpg', got {name!r}")
    return ("file_name", Path(name).name)


def _scores(where: str, given: Any, ids: set[str]) -> dict[str, float]:
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise ParamsError(f"{where}: scores: expected an object of annotation id -> 0..1, like {{'b1': 0.9}}")
    for key, value in given.items():
        if key not in ids:
            raise ParamsError(f"{where}: scores.{key}: no annotation of data has this id")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ParamsError(f"{where}: scores.{key}: expected a number from 0 to 1, got {value!r}")
    return {key: float(value) for key, value in given.items()}


def _ids(data: dict[str, Any]) -> set[str]:
    return {
        item["id"]
        for image in data.get("images") or []
        for items in image.values()
        if isinstance(items, list)
        for item in items
        if isinstance(item, dict) and "id" in item
    }


def _entry(data: dict[str, Any], scores: dict[str, float]) -> dict[str, Any]:
    entry: dict[str, Any] = {"data": data}
    if scores:
        entry["scores"] = scores
        entry["score"] = round(sum(scores.values()) / len(scores), 6)
    return entry
