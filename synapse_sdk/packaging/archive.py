"""Release archives: which files go in (ignore files honoured) and a reproducible tar.gz.

Extraction lives in :mod:`synapse_sdk.packaging.extract`.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from synapse_sdk.errors import ReleaseError

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
