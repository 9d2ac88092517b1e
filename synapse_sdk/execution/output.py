"""What an action prints in a worker process becomes log entries of its run; what reaches the
worker's own output (its ``worker.log``, a Ray driver's log) has the run's secrets masked."""

from __future__ import annotations

import io
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, TextIO

from synapse_sdk._redact import Masker
from synapse_sdk.plugins.run.run import Run

#: A line longer than this (a progress bar redrawn with \r for hours) is masked and written in parts.
MAX_PENDING = 64 * 1024


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


class MaskedOutput(io.TextIOBase):
    """A text stream that writes to ``original`` with ``masker``'s secrets masked, line by line
    (a secret written in two pieces is masked too; ``flush()`` writes a partial line as it is)."""

    def __init__(self, original: TextIO, masker: Masker) -> None:
        self.original = original
        self.masker = masker
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            pending = self._partial + text
            cut = pending.rfind("\n") + 1
            if cut == 0 and len(pending) > MAX_PENDING:
                cut = len(pending)
            if cut:
                self.original.write(self.masker.text(pending[:cut]))
            self._partial = pending[cut:]
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._partial:
                self.original.write(self.masker.text(self._partial))
                self._partial = ""
        self.original.flush()

    def fileno(self) -> int:
        return self.original.fileno()  # what writes below Python (a subprocess) is masked by the supervisor

    def isatty(self) -> bool:
        return self.original.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override] # io.TextIOBase declares it a plain attribute
        return self.original.encoding


@contextmanager
def masked_output(masker: Masker) -> Iterator[None]:
    """Mask ``masker``'s secrets in everything this process writes to ``sys.stdout``/``sys.stderr``."""
    streams = MaskedOutput(sys.stdout, masker), MaskedOutput(sys.stderr, masker)
    sys.stdout, sys.stderr = streams
    try:
        yield
    finally:
        for stream in streams:
            stream.flush()
        sys.stdout, sys.stderr = streams[0].original, streams[1].original


def copy_masked(source: BinaryIO, target: BinaryIO, masker: Masker) -> None:
    """Copy a process's output (bytes, until it ends) into ``target`` line by line, secrets masked.

    Bytes that are not UTF-8 pass through unchanged (``surrogateescape``); each piece is flushed, so
    the file follows the process as it writes. A target closed meanwhile ends the copy.
    """
    partial = b""
    try:
        while chunk := os.read(source.fileno(), MAX_PENDING):  # what has arrived, without waiting
            pending = partial + chunk
            cut = pending.rfind(b"\n") + 1
            if cut == 0 and len(pending) > MAX_PENDING:
                cut = len(pending)
            if cut:
                target.write(_masked_bytes(pending[:cut], masker))
                target.flush()
            partial = pending[cut:]
        if partial:
            target.write(_masked_bytes(partial, masker))
            target.flush()
    except (OSError, ValueError):  # the file was closed: the supervisor is done with this output
        return


def _masked_bytes(data: bytes, masker: Masker) -> bytes:
    text = data.decode("utf-8", "surrogateescape")
    return masker.text(text).encode("utf-8", "surrogateescape")
