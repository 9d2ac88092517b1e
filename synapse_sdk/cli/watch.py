"""``synapse job watch`` and ``job metrics``: a run's live view and its metric history.

The view reads :func:`synapse_sdk.execution.watch.run_events` (embedded store or HTTP): on a
terminal, rich progress bars per category with rate and ETA, the latest metrics and the last log
lines, redrawn until the run ends; elsewhere (a pipe, a log file), one plain line per log entry,
per progress step (at most one a second per category, and its end) and per metrics call.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import TYPE_CHECKING, Any, TextIO

from synapse_sdk.cli._json import dumps
from synapse_sdk.cli._render import format_log

if TYPE_CHECKING:
    from rich.console import RenderableType

    from synapse_sdk.backend.protocol import RunsResource
    from synapse_sdk.backend.store.feed import RunEvent

#: Log lines the terminal view keeps under its bars.
LOG_TAIL = 12
#: Seconds between two plain progress lines of one category.
PLAIN_EVERY = 1.0
#: The progress category of a release's environment build (``synapse_sdk.execution.environment``).
ENVIRONMENT = "environment"


def eta_text(seconds: float | None) -> str:
    """``"4s"``, ``"2m05s"``, ``"1h02m"``; ``"?"`` when unknown."""
    if seconds is None:
        return "?"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def rate_text(rate: float | None) -> str:
    """Units a second, to three significant digits (``"?"`` when unknown)."""
    return "?" if rate is None else f"{rate:.3g}/s"


def progress_line(data: dict[str, Any]) -> str:
    """One ``progress`` event as a line: ``[progress] training: 40/100 (40%) 12.5/s ETA 4s``
    (the environment phase: ``[progress] environment: building, 12s so far`` / ``ready``)."""
    done = data["current"] >= data["total"]
    if data["category"] == ENVIRONMENT:
        return f"[progress] {ENVIRONMENT}: " + ("ready" if done else f"building, {_building(data)} so far")
    tail = "done" if done else f"{rate_text(data.get('rate'))} ETA {eta_text(data.get('eta'))}"
    return (
        f"[progress] {data['category']}: {data['current']:g}/{data['total']:g} "
        f"({data['percent']:.0f}%) {tail}"
    )


def _building(data: dict[str, Any]) -> str:
    """How long the environment has been building (its 0-of-1 progress is stamped at the start)."""
    return eta_text(max(time.time() - float(data.get("updated_at") or time.time()), 0.0))


def metrics_line(data: dict[str, Any]) -> str:
    """One ``metrics`` event as a line: ``[metrics] training: loss=0.31 acc=0.9``."""
    values = " ".join(f"{k}={_value(v)}" for k, v in data.get("values", {}).items())
    return f"[metrics] {data.get('category')}: {values}"


def _value(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else dumps(value)


class PlainProgress:
    """Decides which progress events become plain lines: a category's first, its end, and at
    most one a ``PLAIN_EVERY`` seconds in between."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def line(self, data: dict[str, Any]) -> str | None:
        now, category = time.monotonic(), data["category"]
        done = data["current"] >= data["total"]
        last = self._last.get(category)
        if last is not None and not done and now - last < PLAIN_EVERY:
            return None
        self._last[category] = now
        return progress_line(data)


class WatchView:
    """What ``job watch`` shows of a run: its status, progress, latest metrics and last logs."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.run: dict[str, Any] = {}
        self.progress: dict[str, dict[str, Any]] = {}
        self.metrics: dict[str, dict[str, Any]] = {}
        self.logs: deque[str] = deque(maxlen=LOG_TAIL)
        self.end: dict[str, Any] | None = None

    def add(self, event: RunEvent) -> None:
        """Take one event into the view."""
        data = event.data
        if event.event == "status":
            self.run = data
        elif event.event == "progress":
            self.progress[data["category"]] = data
        elif event.event == "metrics":
            self.metrics.setdefault(str(data.get("category")), {}).update(data.get("values") or {})
        elif event.event == "log":
            self.logs.append(
                format_log(data["level"], data.get("message"), data.get("event"), data.get("data"))
            )
        elif event.event == "end":
            self.end = data

    def title(self) -> str:
        """``run 1a2b... my-plugin@1.0.0 train RUNNING 12s``."""
        run = self.run
        plugin = run.get("plugin_code") or "-"
        if run.get("plugin_version"):
            plugin += f"@{run['plugin_version']}"
        started, finished = run.get("started_at"), run.get("finished_at")
        elapsed = "" if started is None else f" {eta_text((finished or time.time()) - started)}"
        return f"run {self.run_id}  {plugin}  {run.get('action', '?')}  {run.get('status', '?')}{elapsed}"

    def renderable(self) -> RenderableType:
        """The terminal view (rich)."""
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        parts: list[RenderableType] = [Text(self.title(), style="bold")]
        if self.progress:
            bars = Table.grid(padding=(0, 1))
            for data in self.progress.values():
                done = data["current"] >= data["total"]
                building = data["category"] == ENVIRONMENT and not done
                bars.add_row(
                    Text(data["category"], style="bold"),
                    ProgressBar(total=data["total"], completed=data["current"], width=30, pulse=building),
                    Text(f"{data['current']:g}/{data['total']:g}"),
                    Text(f"{data['percent']:5.1f}%"),
                    Text("done" if done else "building" if building else rate_text(data.get("rate"))),
                    Text("" if done else _building(data) if building else f"ETA {eta_text(data.get('eta'))}"),
                )
            parts.append(bars)
        for category, values in self.metrics.items():
            shown = "  ".join(f"{k}={_value(v)}" for k, v in values.items())
            parts.append(Text(f"metrics {category}: {shown}", style="cyan"))
        parts.extend(Text(line, style=_style(line)) for line in self.logs)
        if self.end is not None:
            ended = f"-- run {self.run_id} ended {self.end.get('status')}"
            parts.append(Text(ended + (f": {self.end['error']}" if self.end.get("error") else "")))
        return Group(*parts)


def _style(line: str) -> str:
    for level, style in (
        ("[ERROR]", "red"),
        ("[CRITICAL]", "bold red"),
        ("[WARNING]", "yellow"),
        ("[DEBUG]", "dim"),
    ):
        if line.startswith(level):
            return style
    return ""


def watch_run(
    runs: RunsResource, run_id: str, *, out: TextIO | None = None, live: bool | None = None
) -> None:
    """Show run ``run_id`` until it ends (``live``: the terminal view; default when ``out`` is a
    terminal); then raise what its end means for an exit code (``result_of``)."""
    from synapse_sdk.execution.follow import result_of
    from synapse_sdk.execution.watch import run_events

    out = out or sys.stdout
    events = run_events(runs, run_id, log_tail=LOG_TAIL)
    view = WatchView(run_id)
    if live if live is not None else out.isatty():
        from rich.console import Console
        from rich.live import Live

        console = Console(file=out)
        with Live(view.renderable(), console=console, refresh_per_second=8, transient=False) as screen:
            for event in events:
                view.add(event)
                screen.update(view.renderable())
    else:
        plain = PlainProgress()
        for event in events:
            view.add(event)
            line = _plain(event, view, plain)
            if line is not None:
                out.write(line + "\n")
                out.flush()
    result_of(runs.get_run(run_id))


def _plain(event: RunEvent, view: WatchView, plain: PlainProgress) -> str | None:
    """The plain line of one event (None: nothing to print)."""
    data = event.data
    if event.event == "status":
        return view.title()
    if event.event == "progress":
        return plain.line(data)
    if event.event == "metrics":
        return metrics_line(data)
    if event.event == "log":
        return view.logs[-1]
    if event.event == "end":
        return f"-- run {view.run_id} ended {data.get('status')}" + (
            f": {data['error']}" if data.get("error") else ""
        )
    return None


def print_metrics(
    runs: RunsResource, run_id: str, name: str | None, category: str | None, as_json: bool, out: TextIO
) -> None:
    """The history of a run's metrics (one metric with ``name``), oldest first."""
    from synapse_sdk.backend.schemas import iso
    from synapse_sdk.errors import UsageError, did_you_mean

    history = runs.metric_history(run_id, category)
    if name is not None:
        known = sorted({k for h in history for k in h["values"]})
        if name not in known:
            where = f" in category {category!r}" if category else ""
            have = f"; it has {', '.join(known)}{did_you_mean(name, known)}" if known else "; it has none yet"
            raise UsageError(f"--name {name!r}: run {run_id} reported no metric of that name{where}{have}")
        history = [{**h, "values": {name: h["values"][name]}} for h in history if name in h["values"]]
    if as_json:
        out.write(dumps([{**h, "time": iso(h["ts"])} for h in history], indent=2) + "\n")
        return
    if not history:
        out.write(
            f"run {run_id} has no metrics yet" + (f" in category {category!r}" if category else "") + "\n"
        )
        return
    out.write(f"{'#':>5}  {'TIME':<19}  {'CATEGORY':<16}  VALUES\n")
    for number, h in enumerate(history, 1):
        shown = "  ".join(f"{k}={_value(v)}" for k, v in h["values"].items())
        when = (iso(h["ts"]) or "")[:19].replace("T", " ")
        out.write(f"{number:>5}  {when:<19}  {h['category']:<16}  {shown}\n")
    if name is not None:
        numbers = [v for h in history if isinstance(v := h["values"][name], int | float)]
        if numbers:
            out.write(
                f"{name}: {len(numbers)} values, first {_value(numbers[0])}, last {_value(numbers[-1])}, "
                f"min {_value(min(numbers))}, max {_value(max(numbers))}\n"
            )
