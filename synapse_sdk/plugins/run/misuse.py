"""Telemetry misuse: what a bad ``set_progress``, level or metric becomes, instead of failing the run.

Reporting never kills a run. In production each kind of misuse is one WARNING log line in the
run (the first time it happens) and a count, and the value is clamped or dropped:

===================  ==========================================  ==============================
kind                 misuse                                      what is recorded
===================  ==========================================  ==============================
progress_over_total  ``set_progress(11, 10)``: current > total    clamped to ``(10, 10)``
progress_negative    current < 0                                 clamped to 0
progress_bad_total   total <= 0 (``set_progress(0, 0)``)          nothing (the call is dropped)
progress_not_finite  NaN or an infinity                          nothing
progress_not_number  not a number (``"5"``)                      nothing
log_level            level not DEBUG..CRITICAL (``"NOTICE"``)     WARNING, text ``[NOTICE] ...``
log_event            ``run.log()`` event name not a text          the name as text (or ``event``)
metrics_value        a metric not a finite number, or its name   the other metrics of the call
                     not a text; a call without metrics          (nothing, if none is left)
metrics_category     category not a non-empty text               category ``default``
===================  ==========================================  ==============================

The counts (one per call, or per dropped metric) are ``Run.dropped`` and, when the run closes,
one WARNING event ``telemetry_dropped`` with them as data, so ``synapse job logs`` shows them.

Under the testing kit (``synapse_sdk.plugins.testing`` sets ``SYNAPSE_STRICT_TELEMETRY=1``) or
``Run(strict=True)`` the same misuse raises where it happens: ``ValueError``, or ``TypeError``
for a value of the wrong type, so authors find the bug in their tests.
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

#: Set (to anything but "" or "0") to make telemetry misuse raise; the testing kit does.
STRICT_ENV = "SYNAPSE_STRICT_TELEMETRY"


def strict_from_env() -> bool:
    """True when ``SYNAPSE_STRICT_TELEMETRY`` asks for misuse to raise."""
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


@dataclass(frozen=True)
class Misuse:
    """One misuse: its kind, what was wrong, what was recorded instead, the error strict mode raises."""

    kind: str
    problem: str
    outcome: str
    error: type[Exception] = ValueError

    def warning(self) -> str:
        """The run's WARNING line for the first misuse of this kind."""
        return (
            f"{self.problem}; {self.outcome} (reporting never fails a run: later '{self.kind}' cases are "
            "only counted, in the closing 'telemetry_dropped' event; under synapse_sdk.plugins.testing "
            "this raises)"
        )


def check_progress(current: Any, total: Any) -> tuple[tuple[float, float] | None, Misuse]:
    """For a ``set_progress`` call that failed the fast check: the values to record (None: drop it)
    and the misuse."""
    call = f"set_progress({current!r}, {total!r})"
    if not (_is_real(current) and _is_real(total)):
        return None, Misuse("progress_not_number", f"{call} needs numbers", "not recorded", TypeError)
    current, total = float(current), float(total)
    if not (math.isfinite(current) and math.isfinite(total)):
        return None, Misuse("progress_not_finite", f"{call} needs finite numbers", "not recorded")
    rule = "set_progress() needs 0 <= current <= total and total > 0"
    if total <= 0:
        return None, Misuse("progress_bad_total", f"{rule}, got {call}", "not recorded")
    if current < 0:
        return (0.0, total), Misuse("progress_negative", f"{rule}, got {call}", "recorded as 0")
    return (total, total), Misuse("progress_over_total", f"{rule}, got {call}", f"clamped to {total:g}")


def check_metrics(values: Any, category: Any) -> tuple[dict[str, Any], str, list[Misuse], int]:
    """For a ``set_metrics`` call that failed the fast check: the metrics and category to record
    (no metrics: drop the call), the misuses, and how many metrics were dropped."""
    misuses = []
    if not isinstance(category, str) or not category:
        misuses.append(
            Misuse(
                "metrics_category",
                f"set_metrics() needs a category name, got {category!r}",
                "recorded under 'default'",
            )  # fmt: skip
        )
        category = "default"
    if not hasattr(values, "items") or not values:
        problem = f"set_metrics() needs a non-empty mapping of name -> number, got {values!r}"
        misuses.append(Misuse("metrics_value", problem, "not recorded"))
        return {}, category, misuses, 1
    kept: dict[str, Any] = {}
    bad = []
    for name, value in values.items():
        if isinstance(name, str) and name and _is_real(value) and math.isfinite(value):
            kept[name] = value if type(value) in (int, float, bool) else _as_number(value)
        else:
            bad.append(f"{name!r}: {value!r}")
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        misuses.append(
            Misuse(
                "metrics_value",
                f"set_metrics() needs finite numbers under text names, got {shown}",
                "those were not recorded",
            )  # fmt: skip
        )
    return kept, category, misuses, len(bad)


def _is_real(value: Any) -> bool:
    """A real number (numpy's and ``Decimal`` included): what a progress or a metric can be."""
    return isinstance(value, numbers.Real | Decimal)


def _as_number(value: Any) -> int | float:
    """A numpy (or other) real as a Python int or float, which JSON stores as a number."""
    return int(value) if isinstance(value, numbers.Integral) else float(value)
