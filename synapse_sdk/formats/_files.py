"""Files the dataset writers leave behind a kill in a state the next run can continue from.

Final files are written whole or not at all (:func:`write_atomic`: a temporary file named after
the target, then ``os.replace``; the same target always uses the same temporary name, so a
write killed half-way leaves nothing a rewrite does not replace). Per-sample state that only
``close()`` needs is appended to a journal, one JSON line per sample: :func:`open_journal` cuts
a line a kill left unfinished, :func:`read_journal` keeps the last line of each sample index.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Final

from synapse_sdk.errors import AnnotationError

#: Image file extensions the readers look for (lower case), as Pillow and the usual tools read them.
IMAGE_EXTENSIONS: Final = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole: readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


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


def read_journal(path: Path) -> list[dict[str, Any]]:
    """The journal's records sorted by sample index, the last line of each index winning."""
    if not path.is_file():
        return []
    latest: dict[int, dict[str, Any]] = {}
    with path.open("rb") as stream:
        for line in stream:
            if line.endswith(b"\n"):
                record = json.loads(line)
                latest[record["index"]] = record
    return [latest[index] for index in sorted(latest)]


def remove_journal(path: Path) -> None:
    """Delete a journal once ``close()`` has written what it held, and its folder if now empty."""
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
