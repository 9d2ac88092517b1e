"""What a release archive may hold, checked member by member before anything is written.

``tarfile``'s own filters are not relied on (unpatched Pythons, such as 3.11.7, let a chain of
symlinks plus an over-long path through them: CVE-2025-4517). Only what ``publish`` itself
creates is accepted: regular files and folders with relative, portable names. Links, devices,
fifos, sparse files, absolute names, ``..``, over-long names, duplicates, a name that is both a
file and a folder, compiled files and the SDK's own ``.synapse/`` folder are refused, as are more
than ``Limits.members`` members or ``Limits.total_bytes`` of content. The same reader serves
extraction (:mod:`~synapse_sdk.packaging.extract`) and the registry's door
(``ReleaseStore.add_release``), so both judge an archive alike.
"""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from synapse_sdk.errors import ReleaseError, UnsafeArchive

#: Members an archive may hold: a plugin with more is refused before anything is written.
MAX_MEMBERS: Final = 10_000
#: Bytes of content an archive may unpack to (sum of its members' sizes).
MAX_BYTES: Final = 4 << 30
#: Longest member name (bytes of UTF-8) and longest single name component (the usual NAME_MAX).
MAX_NAME_BYTES: Final = 1024
MAX_PART_BYTES: Final = 255
#: The top-level folder the SDK writes into an extracted release (its manifest); never from an archive.
RESERVED_DIR: Final = ".synapse"
#: Largest ``config.yaml`` read when an archive is inspected.
MAX_CONFIG_BYTES: Final = 1 << 20
_KINDS: Final = {
    tarfile.SYMTYPE: "symbolic link",
    tarfile.LNKTYPE: "hard link",
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.FIFOTYPE: "fifo",
    tarfile.CONTTYPE: "contiguous file",
    tarfile.GNUTYPE_SPARSE: "sparse file",
}
_REFUSED_HINT: Final = "nothing was extracted; build release archives with 'synapse plugin publish'"


@dataclass(frozen=True)
class Limits:
    """How large an archive may be: members and total unpacked bytes."""

    members: int = MAX_MEMBERS
    total_bytes: int = MAX_BYTES


@dataclass(frozen=True)
class Entry:
    """One accepted member: its normalised path parts, kind, size and where its bytes are."""

    name: str
    parts: tuple[str, ...]
    is_dir: bool
    size: int
    executable: bool
    member: tarfile.TarInfo | zipfile.ZipInfo


def short(name: str, limit: int = 80) -> str:
    """``name`` quoted on one line (control characters escaped), its middle cut when it is long."""
    if len(name) > limit:
        name = f"{name[: limit // 2]}…{name[-limit // 4 :]}"
    return repr(name)


def name_problem(name: str) -> str | None:
    """Why a member name is refused (absolute, ``..``, over-long, unportable), or None."""
    if "\\" in name:
        return "backslash in the name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":" and name[0].isascii() and name[0].isalpha()):
        return "absolute path"
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts:
        return "empty name"
    if ".." in parts:
        return "path climbs out with '..'"
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        return "control character in the name"
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        return f"name longer than {MAX_NAME_BYTES} bytes"
    if any(len(p.encode("utf-8", "surrogateescape")) > MAX_PART_BYTES for p in parts):
        return f"a name component longer than {MAX_PART_BYTES} bytes"
    if parts[0] == RESERVED_DIR:
        return f"'{RESERVED_DIR}/' is reserved for the SDK's manifest"
    if "__pycache__" in parts or parts[-1].endswith((".pyc", ".pyo")):
        return "compiled files are made at extraction, never shipped"
    return None


def _tar_kind(info: tarfile.TarInfo) -> tuple[bool, str | None]:
    """(is a folder, why the member type is refused or None)."""
    if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
        return False, None
    if info.type == tarfile.DIRTYPE:
        return True, None
    kind = _KINDS.get(info.type, f"member of type {info.type!r}")
    return False, f"it is a {kind}, which publish never creates"


def _zip_kind(info: zipfile.ZipInfo) -> tuple[bool, str | None]:
    mode = info.external_attr >> 16
    if info.flag_bits & 0x1:
        return False, "encrypted members are not allowed"
    fmt = stat.S_IFMT(mode)
    if info.is_dir():
        return True, None if fmt in (0, stat.S_IFDIR) else "folder entry with a non-folder mode"
    if fmt in (0, stat.S_IFREG):
        return False, None
    kind = "symbolic link" if stat.S_ISLNK(mode) else "special file"
    return False, f"it is a {kind}, which publish never creates"


def _refuse(label: str, name: str, problem: str) -> UnsafeArchive:
    return UnsafeArchive(f"{label}: entry {short(name)} is unsafe ({problem}); {_REFUSED_HINT}")


class _Checker:
    """Accumulates members in archive order and refuses the first that breaks a rule."""

    def __init__(self, label: str, limits: Limits) -> None:
        self.label, self.limits = label, limits
        self.entries: list[Entry] = []
        self.files: dict[tuple[str, ...], str] = {}
        self.dirs: dict[tuple[str, ...], str] = {}  # explicit and implied folders
        self.total = self.seen = 0

    def add(self, member: tarfile.TarInfo | zipfile.ZipInfo, name: str, kind: tuple[bool, str | None],
            size: int, mode: int) -> None:  # fmt: skip
        """Accept ``member`` or raise ``UnsafeArchive`` naming it and the rule it breaks."""
        is_dir, kind_problem = kind
        self.seen += 1
        if self.seen > self.limits.members:
            raise UnsafeArchive(
                f"{self.label}: more than {self.limits.members} members; {_REFUSED_HINT} "
                "(keep data out of the release: read it from storage at run time)"
            )
        parts = tuple(p for p in name.split("/") if p not in ("", "."))
        if is_dir and not parts and not kind_problem and not name.startswith("/"):
            return  # "./": the top folder itself, as ``tar -C dir .`` writes it
        problem = kind_problem or name_problem(name)
        if problem:
            raise _refuse(self.label, name, problem)
        if parts in self.files or (is_dir and parts in self.dirs and self.dirs[parts] != ""):
            raise _refuse(self.label, name, "duplicate name")
        if not is_dir and parts in self.dirs:
            raise _refuse(self.label, name, f"a file replacing the folder {short(self.dirs[parts] or name)}")
        for depth in range(1, len(parts)):
            prefix = parts[:depth]
            if prefix in self.files:
                raise _refuse(self.label, name, f"it goes through the file {short(self.files[prefix])}")
            self.dirs.setdefault(prefix, "")  # implied: "" until a folder member names it
        if size < 0:
            raise _refuse(self.label, name, "negative size")
        self.total += size
        if self.total > self.limits.total_bytes:
            raise UnsafeArchive(
                f"{self.label}: members add up to more than {_size(self.limits.total_bytes)} unpacked; "
                f"{_REFUSED_HINT} (keep data out of the release: read it from storage at run time)"
            )
        if is_dir:
            self.dirs[parts] = name
        else:
            self.files[parts] = name
        self.entries.append(Entry(name, parts, is_dir, size, bool(mode & 0o111), member))


def _size(count: int) -> str:
    return f"{count / (1 << 30):g} GiB" if count >= 1 << 30 else f"{count} bytes"


def _unreadable(label: str, exc: BaseException) -> ReleaseError:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ReleaseError(f"{label}: not a readable tar.gz or zip archive ({detail}); nothing was extracted")


#: What reading a broken archive raises, for every format accepted.
READ_ERRORS: Final = (
    tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
)  # fmt: skip


class ArchiveReader:
    """An open tar or zip archive: its checked entries, and each file entry's bytes."""

    def __init__(self, source: Path | bytes, label: str, limits: Limits) -> None:
        self.label = label
        # The file, tar and zip stay open for open(); close() closes them.
        self._file: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
        self._tar: tarfile.TarFile | None = None
        self._zip: zipfile.ZipFile | None = None
        checker = _Checker(label, limits)
        try:
            if zipfile.is_zipfile(self._file):
                self._read_zip(checker)
            else:
                self._read_tar(checker)
        except ReleaseError:
            self.close()
            raise
        except READ_ERRORS as exc:
            self.close()
            raise _unreadable(label, exc) from None
        self.entries = checker.entries

    def _read_zip(self, checker: _Checker) -> None:
        self._zip = zipfile.ZipFile(self._file)
        for zinfo in self._zip.infolist():
            checker.add(zinfo, zinfo.filename, _zip_kind(zinfo), zinfo.file_size, zinfo.external_attr >> 16)

    def _read_tar(self, checker: _Checker) -> None:
        self._file.seek(0)
        try:
            self._tar = tarfile.open(fileobj=self._file, mode="r:*")  # noqa: SIM115 - closed in close()
        except tarfile.ReadError:
            raise _unreadable(
                self.label, ValueError("neither a tar (plain, gz, bz2, xz) nor a zip")
            ) from None
        for info in self._tar:  # lazily: a huge member count stops at the limit
            kind = _tar_kind(info)
            checker.add(info, info.name, kind, 0 if kind[0] else info.size, info.mode)

    def open(self, entry: Entry) -> IO[bytes]:
        """The bytes of a file entry."""
        if self._zip is not None:
            assert isinstance(entry.member, zipfile.ZipInfo)
            return self._zip.open(entry.member)
        assert self._tar is not None
        assert isinstance(entry.member, tarfile.TarInfo)
        data = self._tar.extractfile(entry.member)
        assert data is not None  # regular files only
        return data

    def close(self) -> None:
        """Close the archive and its file."""
        for closable in (self._tar, self._zip, self._file):
            if closable is not None:
                closable.close()


def check_archive(source: Path | bytes, label: str, want: str | None = None) -> bytes | None:
    """Check an archive as extraction would, every file's bytes read to the end; nothing is written.

    Returns the bytes of the top-level file ``want`` (None if absent or not asked for), at most
    ``MAX_CONFIG_BYTES``. ``UnsafeArchive`` names the first refused member, ``ReleaseError`` an
    unreadable archive or member (a truncated one, an unsupported compression).
    """
    reader = ArchiveReader(source, label, Limits())
    wanted: bytes | None = None
    try:
        for entry in reader.entries:
            if entry.is_dir:
                continue
            is_wanted = entry.parts == (want,)
            if is_wanted and entry.size > MAX_CONFIG_BYTES:
                raise ReleaseError(f"{label}: {want} is larger than {MAX_CONFIG_BYTES} bytes")
            try:
                with reader.open(entry) as data:
                    content = _drain(data, entry.size, keep=is_wanted)
            except READ_ERRORS as exc:
                detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise ReleaseError(f"{label}: entry {short(entry.name)} cannot be read ({detail})") from None
            if is_wanted:
                wanted = content
        return wanted
    finally:
        reader.close()


def _drain(data: IO[bytes], size: int, keep: bool) -> bytes:
    """Read a member to its end (its declared ``size``, checked), returning it only if ``keep``."""
    kept, seen = bytearray(), 0
    while chunk := data.read(1 << 20):
        seen += len(chunk)
        if keep:
            kept += chunk
        if seen > size:
            break
    if seen != size:
        raise ValueError(f"{seen} bytes where the header says {size}")
    return bytes(kept)
