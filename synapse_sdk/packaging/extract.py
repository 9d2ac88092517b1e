"""Extraction of a checked release archive that cannot write outside its folder.

Members are checked first (:mod:`~synapse_sdk.packaging.members`); then files are created one by
one with ``O_CREAT | O_EXCL | O_NOFOLLOW`` relative to an open descriptor of the destination, each
parent folder opened with ``O_NOFOLLOW`` too, so even a link that appeared meanwhile is never
followed. ``extract_once`` does it in a temporary folder moved into place only when complete.
"""

from __future__ import annotations

import compileall
import contextlib
import os
import shutil
import stat
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Final

from synapse_sdk.errors import ReleaseError
from synapse_sdk.packaging.members import READ_ERRORS, ArchiveReader, Entry, Limits, short

_CHUNK: Final = 1 << 20
_DIR_FLAGS: Final = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _open_dir(root_fd: int, parts: tuple[str, ...]) -> int:
    """A descriptor of ``root/parts``, each folder created if missing and none reached through a link."""
    fd = os.dup(root_fd)
    try:
        for part in parts:
            with contextlib.suppress(FileExistsError):  # made for an earlier member: opened all the same
                os.mkdir(part, 0o755, dir_fd=fd)
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_file(parent_fd: int, entry: Entry, data: IO[bytes]) -> None:
    fd = os.open(entry.parts[-1], _FILE_FLAGS, 0o755 if entry.executable else 0o644, dir_fd=parent_fd)
    written = 0
    with os.fdopen(fd, "wb") as out:
        while written <= entry.size and (chunk := data.read(min(_CHUNK, entry.size - written + 1))):
            written += len(chunk)
            if written > entry.size:
                break
            out.write(chunk)
    if written != entry.size:
        raise OSError(f"content is {'longer' if written > entry.size else 'shorter'} than its declared size")


def extract_archive(archive: str | Path, dest: str | Path, limits: Limits | None = None) -> None:
    """Extract a tar(.gz) or zip release archive into the new folder ``dest``.

    Every member is checked first (:mod:`~synapse_sdk.packaging.members`): a refused one raises
    ``UnsafeArchive`` before anything is written. ``dest`` must not exist (its parent is created
    if needed); if extraction fails midway, ``dest`` is removed again.
    """
    archive, dest = Path(archive), Path(dest)
    if os.open not in os.supports_dir_fd:
        raise ReleaseError("extracting a release needs a POSIX system (os.open with dir_fd)")
    reader = ArchiveReader(archive, str(archive), limits or Limits())
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(dest, 0o700)  # private until complete; FileExistsError if it exists
        try:
            _write_entries(reader, os.open(dest, _DIR_FLAGS), str(archive))
        except BaseException:
            remove_tree(dest)
            raise
    finally:
        reader.close()


def _write_entries(reader: ArchiveReader, root_fd: int, label: str) -> None:
    try:
        for entry in reader.entries:
            try:
                if entry.is_dir:
                    os.close(_open_dir(root_fd, entry.parts))
                    continue
                parent_fd = _open_dir(root_fd, entry.parts[:-1])
                try:
                    with reader.open(entry) as data:
                        _write_file(parent_fd, entry, data)
                finally:
                    os.close(parent_fd)
            except READ_ERRORS as exc:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise ReleaseError(
                    f"{label}: entry {short(entry.name)} cannot be extracted ({why.splitlines()[0]}); "
                    "nothing was kept"
                ) from None
        os.chmod(root_fd, 0o755)
    finally:
        os.close(root_fd)


def extract_once(archive: str | Path, dest: str | Path, limits: Limits | None = None) -> Path:
    """Extract into ``dest`` atomically: into a temporary sibling, then renamed; an existing ``dest`` is kept.

    A crash mid-extraction leaves only a ``.tmp-*`` folder, never a half-filled ``dest``. The
    folder is shared by every run of the release: its code is compiled beforehand (so importing
    it writes nothing), a manifest of every file's sha256 is written (checked before each run by
    :func:`~synapse_sdk.packaging.manifest.verify_release`), and it is made read-only.
    """
    from synapse_sdk.packaging.checksum import sha256_file
    from synapse_sdk.packaging.manifest import write_manifest

    dest = Path(dest)
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".tmp-{dest.name}-{uuid.uuid4().hex[:8]}")
    try:
        extract_archive(archive, tmp, limits)
        compileall.compile_dir(tmp, quiet=2)  # every run imports this code: compile it once here
        write_manifest(tmp, sha256_file(archive))
        make_read_only(tmp)
        try:
            tmp.rename(dest)
        except OSError:
            if not dest.is_dir():  # another process won the race: its copy is identical
                raise
    finally:
        if os.path.lexists(tmp):
            remove_tree(tmp)
    return dest


def make_read_only(folder: Path) -> None:
    """Drop every write permission below ``folder`` (files and folders, ``folder`` itself last)."""
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    folder.chmod(folder.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def remove_tree(folder: Path) -> None:
    """Remove ``folder`` even where it was made read-only (links inside are removed, never followed)."""

    def writable_then_retry(function: Callable[[str], object], path: str, _exc: object) -> None:
        parent = os.path.dirname(path)
        os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR)
        if os.path.exists(path) and not os.path.islink(path):
            os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR)
        function(path)  # os.unlink or os.rmdir, as shutil hands it back

    shutil.rmtree(folder, onerror=writable_then_retry)
