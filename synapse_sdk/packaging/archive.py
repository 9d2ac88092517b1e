"""Release archives: which files go in (ignore files honoured), a reproducible tar.gz, and safe extraction."""

from __future__ import annotations

import compileall
import gzip
import io
import os
import shutil
import stat
import tarfile
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from synapse_sdk.errors import ReleaseError, UnsafeArchive

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

IGNORE_FILES = (".gitignore", ".synapseignore")
#: Folders never packaged, whatever the ignore files say: VCS data, caches, virtual environments.
EXCLUDED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".bzr", "__pycache__", ".venv", "venv", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".tox", ".nox", ".ipynb_checkpoints", ".eggs", "node_modules", ".synapse",
})  # fmt: skip
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".egg-info")
EXCLUDED_FILES = frozenset({".DS_Store"})


def _is_excluded(name: str, path: Path, is_dir: bool) -> bool:
    if name in EXCLUDED_FILES or name.endswith(EXCLUDED_SUFFIXES):
        return True
    return is_dir and (name in EXCLUDED_DIRS or (path / "pyvenv.cfg").is_file())


def _load_specs(folder: Path, rel: str) -> list[tuple[str, GitIgnoreSpec]]:
    import pathspec

    specs: list[tuple[str, GitIgnoreSpec]] = []
    for name in IGNORE_FILES:
        file = folder / name
        if file.is_file():
            lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
            specs.append((rel, pathspec.GitIgnoreSpec.from_lines(lines)))
    return specs


def _ignored(rel: str, is_dir: bool, specs: list[tuple[str, GitIgnoreSpec]]) -> bool:
    """Git semantics: the deepest ignore file with a matching pattern decides; ``!`` re-includes."""
    verdict = False
    for base, spec in specs:
        if base and not rel.startswith(base + "/"):
            continue
        sub = rel[len(base) + 1 :] if base else rel
        result = spec.check_file(sub + "/" if is_dir else sub)
        if result.include is not None:
            verdict = result.include
    return verdict


def collect_files(folder: str | Path) -> list[str]:
    """The plugin's files to package, as sorted POSIX paths relative to ``folder``.

    ``.gitignore`` and ``.synapseignore`` (in any sub-folder) are honoured; VCS folders, caches and
    virtual environments are always left out. A symlink is packaged as the file it points to if
    that file is inside the plugin; one pointing outside is refused.
    """
    root = Path(folder).resolve()
    found: list[str] = []

    def walk(current: Path, rel: str, specs: list[tuple[str, GitIgnoreSpec]]) -> None:
        specs = specs + _load_specs(current, rel)
        for entry in sorted(os.scandir(current), key=lambda e: e.name):
            path = Path(entry.path)
            child = f"{rel}/{entry.name}" if rel else entry.name
            is_dir = entry.is_dir(follow_symlinks=True)
            if _is_excluded(entry.name, path, is_dir) or _ignored(child, is_dir, specs):
                continue
            if entry.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root) or is_dir:
                    raise ReleaseError(
                        f"{path}: symlink to {target} cannot be packaged ("
                        + ("links to folders are not followed" if is_dir else "it points outside the plugin")
                        + "); copy the file in or list it in .synapseignore"
                    )
            if is_dir:
                walk(path, child, specs)
            elif entry.is_file(follow_symlinks=True):
                found.append(child)

    walk(root, "", [])
    return found


def build_archive(folder: str | Path, files: list[str], extra: dict[str, bytes] | None = None) -> bytes:
    """A reproducible ``tar.gz`` of ``files`` (plus ``extra`` name -> bytes): same content, same bytes."""
    root = Path(folder)
    entries: dict[str, bytes | Path] = {name: root / name for name in files}
    entries.update(extra or {})
    raw = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in sorted(entries):
            source = entries[name]
            data = source if isinstance(source, bytes) else source.read_bytes()
            executable = not isinstance(source, bytes) and os.access(source, os.X_OK)
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            info.mode = 0o755 if executable else 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def extract_archive(archive: str | Path, dest: str | Path) -> None:
    """Extract a tar(.gz) or zip archive into ``dest``, refusing any entry that would land outside it.

    Absolute paths, ``..`` and links whose target escapes ``dest`` raise ``UnsafeArchive`` before
    a single file is written.
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        _extract_zip(archive, dest)
        return
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for member in members:
                problem = _name_problem(member.name)
                try:
                    tarfile.data_filter(member, str(dest))
                except tarfile.FilterError as exc:
                    problem = problem or str(exc)
                if problem:
                    raise UnsafeArchive(
                        f"{archive}: entry {member.name!r} is unsafe ({problem}); refusing to extract "
                        "anything from this archive"
                    )
            tar.extractall(dest, members=members, filter="data")
    except tarfile.TarError as exc:
        raise ReleaseError(f"{archive}: not a readable tar or zip archive ({exc})") from None


def _name_problem(name: str) -> str | None:
    """Absolute names and ``..`` are refused outright (tarfile's data filter would strip or allow them)."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or PurePosixPath(posix).is_absolute() or ":" in posix.split("/")[0]:
        return "absolute path"
    if ".." in PurePosixPath(posix).parts:
        return "path climbs out with '..'"
    return None


def _extract_zip(archive: Path, dest: Path) -> None:
    root = dest.resolve()
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        for info in infos:
            name = info.filename
            mode = info.external_attr >> 16
            problem = _name_problem(name)
            if problem is None and not (root / name).resolve().is_relative_to(root):
                problem = "path lands outside the destination"
            if problem is None and stat.S_ISLNK(mode):
                problem = "symbolic link entries are not allowed in zip releases"
            if problem:
                raise UnsafeArchive(
                    f"{archive}: entry {name!r} is unsafe ({problem}); refusing to extract anything "
                    "from this archive"
                )
        zf.extractall(dest, members=infos)


def extract_once(archive: str | Path, dest: str | Path) -> Path:
    """Extract into ``dest`` atomically: into a temporary sibling, then renamed; an existing ``dest`` is kept.

    A crash mid-extraction leaves only a ``.tmp-*`` folder, never a half-filled ``dest``. The
    folder is shared by every run of the release: it is made read-only (runs write into their
    own folders), its code compiled beforehand so that importing it writes nothing.
    """
    dest = Path(dest)
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".tmp-{dest.name}-{uuid.uuid4().hex[:8]}")
    try:
        extract_archive(archive, tmp)
        compileall.compile_dir(tmp, quiet=2)  # every run imports this code: compile it once here
        make_read_only(tmp)
        try:
            tmp.rename(dest)
        except OSError:
            if not dest.is_dir():  # another process won the race: its copy is identical
                raise
    finally:
        if tmp.exists():
            remove_tree(tmp)
    return dest


def make_read_only(folder: Path) -> None:
    """Drop every write permission below ``folder`` (files and folders, ``folder`` itself last)."""
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    folder.chmod(folder.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def remove_tree(folder: Path) -> None:
    """Remove ``folder`` even where it was made read-only."""

    def writable_then_retry(function: Callable[[str], object], path: str, _exc: object) -> None:
        parent = os.path.dirname(path)
        os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR)
        if os.path.exists(path) and not os.path.islink(path):
            os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR)
        function(path)  # os.unlink or os.rmdir, as shutil hands it back

    shutil.rmtree(folder, onerror=writable_then_retry)
