"""Show a running action: rich progress bars on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import threading
from typing import Any

from synapse_sdk.backend.schemas import EventBatch


def format_log(level: str, message: str | None, event: str | None, data: Any) -> str:
    """One log entry as a line: ``[INFO] message`` or ``[INFO] event {data}``."""
    from synapse_sdk.cli._json import dumps

    text = message if event is None else f"{event} {dumps(data)}"
    return f"[{level}] {text}"


class PlainRenderer:
    """Writes log lines and progress steps (every 10 %) to stderr."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self._shown: dict[str, int] = {}

    def write(self, run_id: str, batch: EventBatch) -> None:
        lines = [format_log(lvl, msg, ev, data) for _, lvl, msg, ev, data in batch.logs]
        for category, (current, total, _) in batch.progress.items():
            step = int(100 * current / total) // 10
            if self._shown.get(category) != step:
                self._shown[category] = step
                lines.append(f"[progress] {category}: {current:g}/{total:g} ({100 * current / total:.0f}%)")
        if lines:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()

    def close(self) -> None:
        """Nothing to tear down."""


class RichRenderer:
    """A rich progress bar per progress category, log lines printed above the bars."""

    def __init__(self, descriptions: dict[str, str] | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.descriptions = descriptions or {}
        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TimeElapsedColumn(),
            console=self.console,
        )
        self.tasks: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.progress.start()

    def write(self, run_id: str, batch: EventBatch) -> None:
        with self._lock:
            styles = {"ERROR": "red", "CRITICAL": "bold red", "WARNING": "yellow", "DEBUG": "dim"}
            for _, level, msg, event, data in batch.logs:
                line = format_log(level, msg, event, data)
                self.progress.console.print(line, style=styles.get(level), markup=False, highlight=False)
            for category, (current, total, _) in batch.progress.items():
                task = self.tasks.get(category)
                if task is None:
                    label = self.descriptions.get(category, category)
                    task = self.tasks[category] = self.progress.add_task(label, total=total)
                self.progress.update(task, completed=current, total=total)

    def close(self) -> None:
        """Stop the live display."""
        self.progress.stop()


def make_renderer(descriptions: dict[str, str] | None = None) -> PlainRenderer | RichRenderer:
    """Rich bars when stderr is a terminal, plain lines otherwise."""
    if sys.stderr.isatty():
        return RichRenderer(descriptions)
    return PlainRenderer()
