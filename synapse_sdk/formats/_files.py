"""Files the dataset writers leave behind a kill in a state the next run can continue from.

Final files are written whole or not at all (:func:`write_atomic`: a temporary file named after
the target, then ``os.replace``; the same target always uses the same temporary name, so a
write killed half-way leaves nothing a rewrite does not replace). Per-sample state that only
``close()`` needs is appended to a journal, one JSON line per sample: :func:`open_journal` cuts
a line a kill left unfinished, :func:`read_journal` keeps the last line of each sample index.

Several processes writing one export at once (a sharded export) each append to a part of the
journal of their own (:func:`journal_part`: ``samples-<part>.jsonl`` beside ``samples.jsonl``);
:func:`read_journal` and :func:`remove_journal` take every part with the journal.

A writer that writes per sample uses the cheaper forms of the same operations: :class:`LabelFiles`
(:func:`write_atomic` without pathlib, remembering the folders it made), :class:`Journal` (the
journal kept open, one ``write`` per line) and :func:`iter_journal` (:func:`read_journal`'s
records one at a time, holding 8 bytes per sample index rather than the records). Those two
encode and parse the lines with pydantic's JSON (``to_json``/``from_json``, the same values as
``json`` reads and writes, several times faster).
"""

from __future__ import annotations

import contextlib
import json
import os
import weakref
from array import array
from collections import OrderedDict
from collections.abc import Iterator
from itertools import repeat
from pathlib import Path
from typing import IO, Any, Final

from pydantic_core import from_json, to_json

from synapse_sdk.errors import AnnotationError

#: Image file extensions the readers look for (lower case), as Pillow and the usual tools read them.
IMAGE_EXTENSIONS: Final = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})


#: Flags of every file the writers open to write (binary, not inherited by a program started).
_FLAGS: Final = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
#: Flags of a temporary file written whole (its bytes then ``os.replace``-d onto the target).
_CREATE: Final = _FLAGS | os.O_TRUNC
#: Flags of a journal: every ``write`` lands at the end, whoever else appends.
_APPEND: Final = _FLAGS | os.O_APPEND
#: Bytes of journal lines buffered before a :class:`Journal` writes them without being asked.
JOURNAL_BUFFER: Final = 1 << 16
#: Journal files :func:`iter_journal` keeps open at once (a sharded export has a part per chunk).
_OPEN_PARTS: Final = 32


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole: readers see the old file or the new one, never half of one."""
    folder, name = os.path.split(os.fspath(path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    _replace(folder, name, data)


def _replace(folder: str, name: str, data: bytes) -> None:
    """``data`` into ``.<name>.tmp`` in ``folder`` (the same name for the same target: a write killed
    half-way leaves only a file the next write of it replaces), then renamed onto ``name``."""
    temporary = os.path.join(folder, f".{name}.tmp")
    descriptor = os.open(temporary, _CREATE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)
    os.replace(temporary, os.path.join(folder, name))


class LabelFiles:
    """:func:`write_atomic` for the many small files of one export folder: plain strings rather than
    paths, and each folder made once (made again if something removed it meanwhile)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.fspath(root)
        self._made: set[str] = set()

    def write(self, folder: str, name: str, data: bytes) -> None:
        """Write ``data`` whole to ``<root>/<folder>/<name>`` (``folder`` relative, ``/``-separated)."""
        place = os.path.join(self.root, folder) if folder else self.root
        if place not in self._made:
            os.makedirs(place, exist_ok=True)
            self._made.add(place)
        try:
            _replace(place, name, data)
        except FileNotFoundError:  # the folder went away (an earlier export into it was deleted)
            os.makedirs(place, exist_ok=True)
            _replace(place, name, data)


def open_journal(path: Path) -> None:
    """Make ``path`` ready for appending: created if new, an unfinished last line (a kill) cut off."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab+") as stream:
        size = stream.seek(0, os.SEEK_END)
        if size == 0:
            return
        # Walk back to the last newline; everything after it is a line a kill cut short.
        end = size
        while end > 0:
            start = max(0, end - 4096)
            stream.seek(start)
            chunk = stream.read(end - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                stream.truncate(start + newline + 1)
                return
            end = start
        stream.truncate(0)


def append_journal(path: Path, index: int, record: dict[str, Any]) -> None:
    """Append one sample's record (one line, written by a single ``write``) to the journal."""
    line = json.dumps({"index": index, **record}, ensure_ascii=False, separators=(",", ":"))
    with path.open("ab") as stream:
        stream.write(line.encode() + b"\n")


class Journal:
    """A journal :func:`open_journal` made ready, kept open for appending, its lines handed to the
    OS in batches: :meth:`flush` (or :data:`JOURNAL_BUFFER` bytes of lines) writes the lines
    appended since in one ``write`` (``O_APPEND``), so a kill loses the lines not flushed yet and
    at most cuts the last one short. An export flushes it before its manifest records those
    samples (``FormatWriter.flush``). A process forked from the one that opened it opens it anew
    and leaves the parent's unflushed lines to the parent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        open_journal(path)
        self._descriptor = -1
        self._pid = -1
        self._finalizer: weakref.finalize[Any, Journal] | None = None
        self._pending: list[bytes] = []
        self._size = 0

    def append(self, index: int, record: dict[str, Any]) -> None:
        """Append one sample's record, as :func:`append_journal` does (the same JSON values, encoded
        by pydantic's serializer, a few times faster than ``json.dumps``)."""
        data = to_json({"index": index, **record}, inf_nan_mode="constants") + b"\n"
        if self._pid != os.getpid():
            self._open()
        self._pending.append(data)
        self._size += len(data)
        if self._size >= JOURNAL_BUFFER:
            self.flush()

    def flush(self) -> None:
        """Write the lines appended since the last flush (short writes are finished)."""
        if not self._pending:
            return
        if self._pid != os.getpid():  # a forked child: the lines are its parent's to write
            self._pending.clear()
            self._size = 0
            return
        _write_lines(self._descriptor, self._pending)
        self._size = 0

    def close(self) -> None:
        """Flush and close the file (appending again opens it again)."""
        self.flush()
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._descriptor, self._pid = -1, -1

    def _open(self) -> None:
        if self._finalizer is not None and self._finalizer.detach() is not None:
            with contextlib.suppress(OSError):  # a forked child's copy of the parent's descriptor
                os.close(self._descriptor)
        self._pending.clear()  # a forked child's copy of the parent's lines
        self._size = 0
        self._descriptor = os.open(self.path, _APPEND, 0o666)
        self._pid = os.getpid()
        # A journal dropped unclosed still writes its lines, as a file object flushes when dropped.
        self._finalizer = weakref.finalize(self, _close_journal, self._descriptor, self._pending)


def _write_lines(descriptor: int, lines: list[bytes]) -> None:
    """Write ``lines`` in one ``write`` (a short one, from a full disk or a signal, is finished) and
    empty the list."""
    view = memoryview(b"".join(lines))
    lines.clear()
    while view:
        view = view[os.write(descriptor, view) :]


def _close_journal(descriptor: int, lines: list[bytes]) -> None:
    try:
        _write_lines(descriptor, lines)
    finally:
        os.close(descriptor)


def journal_part(path: Path, part: str | None) -> Path:
    """The journal one writer appends to: ``path`` itself, or its part ``<stem>-<part><suffix>``."""
    return path if part is None else path.with_name(f"{path.stem}-{part}{path.suffix}")


def journal_files(path: Path) -> list[Path]:
    """The journal ``path`` and its parts that exist, the journal first, then the parts by name."""
    parts = sorted(path.parent.glob(f"{path.stem}-*{path.suffix}")) if path.parent.is_dir() else []
    return [p for p in (path, *parts) if p.is_file()]


def read_journal(path: Path) -> list[dict[str, Any]]:
    """The records of the journal and its parts sorted by sample index, the last line of each index
    winning (a part read later wins over an earlier one: both hold the same sample's same record)."""
    latest: dict[int, dict[str, Any]] = {}
    for file in journal_files(path):
        with file.open("rb") as stream:
            for line in stream:
                if line.endswith(b"\n"):
                    record = json.loads(line)
                    latest[record["index"]] = record
    return [latest[index] for index in sorted(latest)]


def iter_journal(path: Path) -> Iterator[dict[str, Any]]:
    """:func:`read_journal`'s records (the journal and its parts, by sample index, the last line of
    each index winning) one at a time, holding 8 bytes per sample index rather than the records."""
    for line in iter_journal_lines(path):
        # Keys only: a cache of the values (every sample's names) would grow with the journal.
        yield from_json(line, cache_strings="keys")


def iter_journal_lines(path: Path) -> Iterator[bytes]:
    """The lines :func:`iter_journal` parses, unparsed (for a pass that needs only some of them).

    One pass over the files notes where the last line of each index is (8 bytes per index);
    a second reads those lines in index order. Sample indexes are those of an export's stream:
    whole numbers from 0."""
    files = journal_files(path)
    count = len(files)
    where = array("q")  # by sample index: offset * count + file number of its last line; -1 none
    for number, file in enumerate(files):
        with file.open("rb") as journal:
            offset = 0
            for line in journal:
                if line.endswith(b"\n"):
                    index = _line_index(line)
                    if index >= len(where):
                        where.extend(repeat(-1, max(index + 1, 2 * len(where)) - len(where)))
                    where[index] = offset * count + number
                offset += len(line)
    streams: OrderedDict[int, IO[bytes]] = OrderedDict()
    try:
        for position in where:
            if position < 0:
                continue
            offset, number = divmod(position, count)
            found = streams.get(number)
            if found is None:
                if len(streams) >= _OPEN_PARTS:
                    streams.popitem(last=False)[1].close()
                found = streams[number] = files[number].open("rb")
            else:
                streams.move_to_end(number)
            found.seek(offset)
            yield found.readline()
    finally:
        for stream in streams.values():
            stream.close()


def _line_index(line: bytes) -> int:
    """The sample index of a journal line: the ``{"index":N,`` our writers start it with, read without
    parsing the rest; any other line parsed whole."""
    if line.startswith(b'{"index":'):
        end = line.find(b",", 9)
        digits = line[9:end] if end > 0 else b""
        if digits.isdigit():
            return int(digits)
    index = json.loads(line)["index"]
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"a journal line's index must be a whole number from 0, got {index!r}")
    return index


def remove_journal(path: Path) -> None:
    """Delete a journal and its parts once ``close()`` has written what they held, and their folder
    if now empty."""
    for file in journal_files(path):
        file.unlink(missing_ok=True)
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty (another journal), or already gone
        path.parent.rmdir()


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of an image file, read from its header (Pillow opens lazily, no decode)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, UnidentifiedImageError) as exc:
        raise AnnotationError(f"{path}: cannot read the image's size: {exc}") from exc
    return int(width), int(height)
