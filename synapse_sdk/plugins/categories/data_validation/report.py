"""What a validation finds: ``Problem`` records, and the ``Report`` that counts and writes them.

The JSON report (``validation_report.json`` in the run's folder) is::

    {"summary": {"target": "project 3", "items": 40, "errors": 2, "warnings": 1,
                 "by_check": {"boxes": {"error": 2}, "class_balance": {"warning": 1}}},
     "problems": [{"check": "boxes", "item": "task 12", "data_unit": 7, "file": "a.jpg",
                   "field": "data.images[0].bounding_box[1].data", "severity": "error",
                   "message": "the box [90, 10, 20, 20] ends outside the 100x100 image",
                   "fix": "clip it to [90, 10, 10, 20]"}, ...]}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final, Literal

#: How bad a problem is: errors fail the run (by default), warnings are reported.
Severity = Literal["error", "warning"]
#: The report in the run's folder.
REPORT_NAME: Final = "validation_report.json"


@dataclass(frozen=True)
class Problem:
    """One problem: which check found it, in which item and field, how bad, and how to fix it."""

    check: str
    item: str
    field: str
    severity: Severity
    message: str
    fix: str | None = None
    data_unit: int | None = None
    file: str | None = None


class Report:
    """The problems of one validation, in the order found, counted per check and severity."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.problems: list[Problem] = []
        self.items = 0

    def add(self, problem: Problem) -> None:
        """Record one problem."""
        self.problems.append(problem)

    def count(self, severity: Severity) -> int:
        """How many problems of ``severity`` there are."""
        return sum(p.severity == severity for p in self.problems)

    def by_check(self) -> dict[str, dict[str, int]]:
        """``{check: {severity: count}}``."""
        counts: dict[str, dict[str, int]] = {}
        for problem in self.problems:
            per = counts.setdefault(problem.check, {})
            per[problem.severity] = per.get(problem.severity, 0) + 1
        return counts

    def summary(self) -> dict[str, Any]:
        """The counts, as the report and the run's result give them."""
        return {
            "target": self.target,
            "items": self.items,
            "errors": self.count("error"),
            "warnings": self.count("warning"),
            "by_check": self.by_check(),
        }

    def write(self, folder: Path) -> Path:
        """Write the JSON report into ``folder``; its path."""
        path = Path(folder) / REPORT_NAME
        document = {"summary": self.summary(), "problems": [asdict(p) for p in self.problems]}
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    def lines(self, limit: int = 20) -> list[str]:
        """Short human lines: the counts per check, then the first ``limit`` problems."""
        shown = [
            f"{check}: " + ", ".join(f"{n} {severity}(s)" for severity, n in sorted(counts.items()))
            for check, counts in self.by_check().items()
        ]
        for problem in self.problems[:limit]:
            fix = f" (fix: {problem.fix})" if problem.fix else ""
            shown.append(f"{problem.severity}: {problem.item}: {problem.field}: {problem.message}{fix}")
        if len(self.problems) > limit:
            shown.append(f"... and {len(self.problems) - limit} more problem(s) in the report")
        return shown
