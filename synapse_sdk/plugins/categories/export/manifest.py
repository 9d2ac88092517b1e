"""The export manifest: a JSONL journal in the export folder that makes an export resumable.

Line 1 is the header: what was asked (``fingerprint``: target, filter, format, exporter...). Then
one line per finished item, ``{"index", "id", "status", "files": {relative path: sha256},
"errors": ...}``, appended as items finish (handed to the OS in batches, ``FLUSH_SECONDS`` apart
at most while items keep finishing, and fsynced in larger ones: a kill loses the records since
the last flush, a power cut those since the last fsync; a resume simply does their items again),
and last a ``done`` line with the summary.
A killed export leaves a manifest whose last line may be cut; :func:`read_manifest` drops that
line, and the export goes on after the items it lists.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from pydantic_core import to_json

#: The manifest's file name, in the export folder.
MANIFEST_NAME: Final = "export_manifest.jsonl"
#: Seconds between two flushes to the OS at most while records come (a kill loses what is not flushed).
FLUSH_SECONDS: Final = 0.1
#: Records written between two fsyncs at most (what a power cut can lose).
FSYNC_EVERY: Final = 4096
#: Seconds between two fsyncs at most (an fsync costs about as much as exporting ten items).
FSYNC_SECONDS: Final = 0.5
VERSION: Final = 1


@dataclass
class ManifestState:
    """What a manifest on disk says: the header, the finished items by index, the final summary."""

    header: dict[str, Any]
    items: dict[int, dict[str, Any]] = field(default_factory=dict)
    done: dict[str, Any] | None = None
    #: Bytes of the file up to its last complete line.
    length: int = 0
    #: Bytes of the file before its ``done`` line (what a resume that redoes items keeps).
    open_length: int = 0

    @property
    def failed(self) -> list[int]:
        """The positions of the items that failed (a resume does them again)."""
        return [index for index, record in self.items.items() if record.get("status") == "failed"]


def read_manifest(folder: Path) -> ManifestState | None:
    """The manifest of the export ``folder``, or None if it has none (or not even a header)."""
    file = folder / MANIFEST_NAME
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return None
    return parse_manifest(raw)


def parse_manifest(raw: bytes) -> ManifestState | None:
    """A manifest's text as a :class:`ManifestState` (a cut last line is dropped)."""
    state: ManifestState | None = None
    offset = 0
    for line in raw.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break  # cut by a kill: the item it would record is done again
        try:
            record = json.loads(line)
        except ValueError:
            break
        before, offset = offset, offset + len(line)
        if state is None:
            if record.get("kind") != "header":
                return None
            state = ManifestState(header=record)
        elif record.get("kind") == "done":
            state.done = record
        elif isinstance(record.get("index"), int):
            state.items[record["index"]] = record  # a later record of an item (a retry) wins
        if state.done is None:
            state.open_length = offset
        elif record.get("kind") == "done":
            state.open_length = before
        state.length = offset
    return state


class Manifest:
    """The manifest being written: ``record`` one finished item, ``finish`` with the summary."""

    def __init__(self, file: Path, handle: IO[bytes]) -> None:
        self.file = file
        self._handle = handle
        self._pending: list[bytes] = []
        self._unsynced = 0
        self._synced_at = self._flushed_at = time.monotonic()
        #: Called before each flush: what the recorded items wrote elsewhere (a format writer's
        #: journal) reaches the OS first, so a kill never leaves a record of an item without it.
        self.before_flush: Callable[[], None] | None = None

    @classmethod
    def create(cls, folder: Path, fingerprint: Mapping[str, Any]) -> Manifest:
        """Start the manifest of a new export in ``folder``."""
        file = folder / MANIFEST_NAME
        handle = file.open("xb", buffering=0)
        manifest = cls(file, handle)
        manifest._write({"kind": "header", "version": VERSION, "fingerprint": dict(fingerprint)}, sync=True)
        return manifest

    @classmethod
    def resume(cls, folder: Path, state: ManifestState) -> Manifest:
        """Go on writing the manifest of ``folder`` after its last item (its ``done`` line dropped)."""
        file = folder / MANIFEST_NAME
        handle = file.open("r+b", buffering=0)
        handle.truncate(state.open_length)
        handle.seek(state.open_length)
        return cls(file, handle)

    def record(self, entry: Mapping[str, Any]) -> None:
        """Append one finished item (flushed and fsynced with the others of its batch)."""
        self._write(entry, sync=False)

    def finish(self, summary: Mapping[str, Any]) -> None:
        """Append the ``done`` line and close the manifest."""
        self._write({"kind": "done", **summary}, sync=True)
        self.close()

    def close(self) -> None:
        """Sync and close (safe to call twice)."""
        if not self._handle.closed:
            self._sync()
            self._handle.close()

    def _write(self, entry: Mapping[str, Any], *, sync: bool) -> None:
        # pydantic's serializer: the values json.dumps(..., default=str) writes, a few times faster.
        self._pending.append(to_json(dict(entry), fallback=str, inf_nan_mode="constants") + b"\n")
        self._unsynced += 1
        now = time.monotonic()
        if sync or self._unsynced >= FSYNC_EVERY or now - self._synced_at >= FSYNC_SECONDS:
            self._sync()
        elif now - self._flushed_at >= FLUSH_SECONDS:
            self._flush()  # in the OS now: a killed process keeps these
            self._flushed_at = now

    def _flush(self) -> None:
        if self.before_flush is not None:
            self.before_flush()
        view = memoryview(b"".join(self._pending))
        self._pending.clear()
        while view:  # an unbuffered file may take part of it
            view = view[self._handle.write(view) or 0 :]

    def _sync(self) -> None:
        self._flush()
        os.fsync(self._handle.fileno())
        self._unsynced = 0
        self._synced_at = self._flushed_at = time.monotonic()
