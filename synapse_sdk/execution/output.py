"""What an action prints in a worker process becomes log entries of its run."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from synapse_sdk.plugins.run.run import Run


class RunOutput(io.TextIOBase):
    """A text stream that logs each complete line on ``run`` and passes the text on unchanged."""

    def __init__(self, run: Run, level: str, original: TextIO) -> None:
        self.run = run
        self.level = level
        self.original = original
        self._partial = ""

    def write(self, text: str) -> int:
        self.original.write(text)
        if threading.get_ident() == self.run.flushing_thread:
            return len(text)  # the run's own sink warnings: logging them would feed the outage
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._log(line)
        return len(text)

    def flush(self) -> None:
        self.original.flush()

    def _log(self, line: str) -> None:
        text = line.rsplit("\r", 1)[-1].rstrip()  # a progress bar redrawn with \r: its last state
        if text:
            self.run.log_message(text, self.level)


@contextmanager
def captured(run: Run) -> Iterator[None]:
    """Log stdout lines at INFO and stderr lines at WARNING on ``run`` while the block runs.

    A last line printed without its newline reaches only the original stream (the worker's
    output file): the run has closed by the time the block ends.
    """
    streams = RunOutput(run, "INFO", sys.stdout), RunOutput(run, "WARNING", sys.stderr)
    sys.stdout, sys.stderr = streams
    try:
        yield
    finally:
        sys.stdout, sys.stderr = streams[0].original, streams[1].original
