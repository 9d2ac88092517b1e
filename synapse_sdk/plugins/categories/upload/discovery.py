"""Which files make which data units: the folders of an upload, the files in them, grouped by stem.

The three steps are pure functions over the local file system, in the order the upload action
calls them::

    assets, problems = single_path_assets(root, is_recursive, specs)  # or the params' multi-path assets
    found, more = discover(assets)  # spec name -> files, junk and hidden files skipped
    groups, rest = group_by_stem(found, assets, specs)  # one FileGroup per data unit

A group's key is the files' shared path relative to their specification's folder, without
suffix: ``image/a/b.jpg`` and ``json/a/b.json`` make the data unit ``a/b``. Nothing here
raises for a bad file: each one is a :class:`FileProblem`, and the rest goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synapse_sdk.errors import UsageError, did_you_mean

__all__ = [
    "JUNK_NAMES",
    "JUNK_PREFIXES",
    "AssetPath",
    "FileGroup",
    "FileProblem",
    "FileSpec",
    "discover",
    "group_by_stem",
    "is_junk",
    "single_path_assets",
]


@dataclass(frozen=True)
class FileSpec:
    """One file specification of a data collection: which files a data unit holds under ``name``."""

    name: str
    is_required: bool
    is_primary: bool
    file_type: str
    #: Lower-case, with the dot: ``('.jpg', '.png')``; empty means any extension.
    extensions: tuple[str, ...]

    @classmethod
    def from_collection(cls, collection: Mapping[str, Any]) -> list[FileSpec]:
        """The specifications of a data collection record, extensions normalised (``'JPG'`` -> ``'.jpg'``)."""
        specs = collection.get("file_specifications") or []
        return [cls._from_record(spec, index) for index, spec in enumerate(specs)]

    @classmethod
    def _from_record(cls, spec: Mapping[str, Any], index: int) -> FileSpec:
        """One ``file_specifications`` entry; a missing name is a usage error naming its position."""
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise UsageError(
                f"file_specifications[{index}]: no name; give each specification a name like 'image'"
            )
        return cls(
            name=name,
            is_required=bool(spec.get("is_required", False)),
            is_primary=bool(spec.get("is_primary", False)),
            file_type=str(spec.get("file_type") or "other"),
            extensions=tuple(_extension(ext) for ext in spec.get("extensions") or ()),
        )


def _extension(ext: str) -> str:
    """``'JPG'``, ``'.Jpg'`` and ``' .jpg '`` all become ``'.jpg'``."""
    ext = ext.strip().lower()
    return ext if ext.startswith(".") else f".{ext}"


@dataclass(frozen=True)
class AssetPath:
    """The folder holding one specification's files, and whether its sub-folders count."""

    path: Path
    is_recursive: bool


@dataclass(frozen=True)
class FileProblem:
    """A per-file (or per-group) problem: what is wrong with ``path`` and how to fix it."""

    path: Path | None
    spec: str | None
    #: One line naming the file, what is wrong, and the fix.
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class FileGroup:
    """The files of one data unit: one per specification, keyed by spec name, and its meta."""

    #: The files' shared relative stem, e.g. ``'a/b'`` for ``image/a/b.jpg`` + ``json/a/b.json``.
    key: str
    files: dict[str, Path]
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """``{"files": {spec: Path}, "meta": {...}}``: the shape ``BaseUploader`` hooks get."""
        return {"files": dict(self.files), "meta": dict(self.meta)}


#: Names never uploaded: system junk of macOS, Windows and NAS boxes (compared case-insensitively).
JUNK_NAMES: frozenset[str] = frozenset(
    # macOS
    (".DS_Store", ".AppleDouble", ".LSOverride", ".Spotlight-V100", ".Trashes", ".fseventsd", "__MACOSX")
    + (".TemporaryItems", ".DocumentRevisions-V100", ".apdisk", "Icon\r")
    # Windows
    + ("Thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini", "$RECYCLE.BIN")
    + ("System Volume Information",)
    # NAS boxes (Synology, QNAP, NetApp) and Linux file systems
    + ("@eaDir", "#recycle", "#snapshot", "@Recycle", "@Recently-Snapshot", "@__thumb", ".@__thumb")
    + (".snapshot", "lost+found")
)
#: Name prefixes never uploaded: macOS AppleDouble files (``._a.jpg``) and Office lock files (``~$a.xlsx``).
JUNK_PREFIXES: tuple[str, ...] = ("._", "~$")

_JUNK_LOWER = frozenset(name.lower() for name in JUNK_NAMES)


def is_junk(name: str) -> bool:
    """Whether a file or folder name is system junk (see :data:`JUNK_NAMES`, :data:`JUNK_PREFIXES`)."""
    return name.lower() in _JUNK_LOWER or name.startswith(JUNK_PREFIXES)


def _is_skipped(name: str) -> bool:
    """Hidden (leading dot) or junk: never uploaded, never descended into."""
    return name.startswith(".") or is_junk(name)


def single_path_assets(
    root: Path, is_recursive: bool, specs: Sequence[FileSpec]
) -> tuple[dict[str, AssetPath], list[FileProblem]]:
    """Single-path mode: one sub-folder per specification, ``root/<spec.name>/``.

    A missing folder of a required specification is a problem naming the folder to create; of an
    optional one, the specification is just absent. A missing ``root`` is a :class:`UsageError`.
    """
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        names = ", ".join(f"{root / spec.name}/" for spec in specs)
        raise UsageError(
            f"upload path {root} {what}; give a folder with one sub-folder per file specification ({names})"
        )
    assets: dict[str, AssetPath] = {}
    problems: list[FileProblem] = []
    for spec in specs:
        folder = root / spec.name
        if folder.is_dir():
            assets[spec.name] = AssetPath(folder, is_recursive)
        elif spec.is_required or folder.exists():
            problems.append(_missing_folder(root, folder, spec))
    return assets, problems


def _missing_folder(root: Path, folder: Path, spec: FileSpec) -> FileProblem:
    """The problem of a specification whose sub-folder is missing, or a file."""
    if folder.exists():
        return FileProblem(
            folder,
            spec.name,
            f"{folder} is a file, not a folder; put the '{spec.name}' files in a folder of that name",
        )
    try:
        hint = did_you_mean(spec.name, [entry.name for entry in os.scandir(root) if entry.is_dir()])
    except OSError:  # an unreadable root just gets no hint
        hint = ""
    return FileProblem(
        folder,
        spec.name,
        f"{folder}/ is missing{hint}; create it and put the required '{spec.name}' files in it",
    )


def discover(assets: Mapping[str, AssetPath]) -> tuple[dict[str, list[Path]], list[FileProblem]]:
    """Per specification, the files under its folder, sorted; hidden files and junk skipped.

    Sub-folders count when the asset is recursive. Symbolic links that resolve outside the
    asset's folder are skipped with a problem; an unreadable folder is a problem, not a crash.
    """
    found: dict[str, list[Path]] = {}
    problems: list[FileProblem] = []
    for spec, asset in assets.items():
        walk = _Walk(spec, asset)
        found[spec] = [Path(path) for path in sorted(walk.files())]
        problems.extend(walk.problems)
    return found, problems


class _Walk:
    """One asset folder walked with ``os.scandir``: file paths as strings, problems on the side.

    Real folders go first; folders reached through a symbolic link inside the root come after,
    each real folder once (so a link loop, or a link to a walked folder, adds nothing).
    """

    def __init__(self, spec: str, asset: AssetPath) -> None:
        self.spec = spec
        self.root = os.fspath(asset.path)
        self.real_root = os.path.realpath(self.root)
        self.is_recursive = asset.is_recursive
        self.problems: list[FileProblem] = []
        self._seen: set[str] = set()
        self._links: list[tuple[str, str]] = []

    def files(self) -> Iterator[str]:
        """Every file of the asset, as the path under its root (links keep their own path)."""
        if not os.path.isdir(self.root):
            what = "is a file, not a folder" if os.path.exists(self.root) else "does not exist"
            self._problem(self.root, f"the '{self.spec}' folder {what}; create it or fix its path")
            return
        yield from self._folder(self.root, self.real_root)
        while self._links:
            path, real = self._links.pop(0)
            yield from self._folder(path, real)

    def _folder(self, top: str, real_top: str) -> Iterator[str]:
        """The files under ``top`` (just in it, unless recursive); sub-folders walked depth-first."""
        if real_top in self._seen:
            return
        self._seen.add(real_top)
        stack = [(top, real_top)]
        while stack:
            path, real = stack.pop()
            try:
                with os.scandir(path) as entries:
                    for entry in entries:
                        name = entry.name
                        if _is_skipped(name):
                            continue
                        if entry.is_symlink():
                            yield from self._link(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            yield entry.path
                        elif self.is_recursive and entry.is_dir(follow_symlinks=False):
                            child = os.path.join(real, name)
                            if child not in self._seen:
                                self._seen.add(child)
                                stack.append((entry.path, child))
            except OSError as exc:
                self._problem(path, f"cannot read the folder ({exc.strerror or exc}); check its permissions")

    def _link(self, path: str) -> Iterator[str]:
        """A link's file if it resolves inside the root; a linked folder is walked later."""
        target = os.path.realpath(path)
        if not _is_within(target, self.real_root):
            self._problem(
                path, f"links to {target}, outside {self.root}; skipped: copy the file into the folder"
            )
        elif os.path.isfile(target):
            yield path
        elif os.path.isdir(target):
            if self.is_recursive:
                self._links.append((path, target))
        else:
            self._problem(path, "is a broken symbolic link; fix or remove it")

    def _problem(self, path: str, what: str) -> None:
        self.problems.append(FileProblem(Path(path), self.spec, f"{path}: {what}"))


def _is_within(path: str, root: str) -> bool:
    """Whether the real ``path`` is ``root`` or under it (both already resolved)."""
    return path == root or path.startswith(os.path.join(root, ""))


def group_by_stem(
    found: Mapping[str, list[Path]], assets: Mapping[str, AssetPath], specs: Sequence[FileSpec]
) -> tuple[list[FileGroup], list[FileProblem]]:
    """Group files across specifications by relative stem into data units, sorted by key.

    A file whose extension its specification does not allow is dropped with a problem (unless
    another specification sharing the folder takes it); two files of one specification with the
    same stem, or a missing required file, drop the group with a problem. A required
    specification without a folder fails every group, once.
    """
    by_name = {spec.name: spec for spec in specs}
    unknown = sorted((found.keys() - by_name.keys()) | (found.keys() - assets.keys()))
    if unknown:
        raise ValueError(f"found files for {unknown}, which have no specification or no asset folder")
    unlisted = [spec for spec in specs if spec.is_required and spec.name not in assets]
    if unlisted:
        return [], [_no_folder(spec) for spec in unlisted]
    grouping = _Grouping(assets)
    for spec in specs:
        if spec.name in assets:
            grouping.add(spec, found.get(spec.name, ()), _taken_by_others(spec, specs, assets))
    return grouping.groups(specs)


def _taken_by_others(
    spec: FileSpec, specs: Sequence[FileSpec], assets: Mapping[str, AssetPath]
) -> set[str] | None:
    """Extensions other specifications in the same folder take (``None``: one takes any file).

    Multi-path uploads may point ``image`` and ``label`` at one folder: its ``.json`` files are
    then the labels', not a wrong extension of the images.
    """
    taken: set[str] = set()
    for other in specs:
        if other is not spec and other.name in assets and assets[other.name].path == assets[spec.name].path:
            if not other.extensions:
                return None
            taken.update(other.extensions)
    return taken


def _no_folder(spec: FileSpec) -> FileProblem:
    """A required specification with no folder at all: no data unit can be complete."""
    return FileProblem(
        None,
        spec.name,
        f"no folder holds the required '{spec.name}' files; give one, or no data unit is complete",
    )


class _Grouping:
    """Files collected per key and specification; repeated stems and wrong extensions on the side.

    ``files`` holds one path per key and specification, in the specifications' order (they are
    added one specification at a time), so a complete group's dict is used as it is.
    """

    def __init__(self, assets: Mapping[str, AssetPath]) -> None:
        self.assets = assets
        self.files: dict[str, dict[str, Path]] = {}
        self.repeated: dict[tuple[str, str], list[Path]] = {}  # (key, spec) -> every file of that stem
        self.rejected: dict[str, list[tuple[FileSpec, Path, str]]] = {}  # key -> (spec, file, extension)
        self.problems: list[FileProblem] = []

    def add(self, spec: FileSpec, paths: Iterable[Path], others: set[str] | None) -> None:
        """One specification's files by relative stem; a wrong extension rejected unless in ``others``."""
        root = os.fspath(self.assets[spec.name].path)
        prefix, name, allowed = os.path.join(root, ""), spec.name, frozenset(spec.extensions)
        files, split = self.files, os.path.splitext
        for path in paths:
            text = str(path)
            stem, ext = split(text[len(prefix) :] if text.startswith(prefix) else os.path.relpath(text, root))
            key = stem if os.sep == "/" else stem.replace(os.sep, "/")
            if allowed and ext.lower() not in allowed:
                if others is not None and ext.lower() not in others:
                    self.rejected.setdefault(key, []).append((spec, path, ext))
                continue
            slot = files.setdefault(key, {})
            if name in slot:
                self.repeated.setdefault((key, name), [slot[name]]).append(path)
            else:
                slot[name] = path

    def groups(self, specs: Sequence[FileSpec]) -> tuple[list[FileGroup], list[FileProblem]]:
        """The complete groups and every problem, both in key order."""
        required = [spec for spec in specs if spec.is_required]
        repeated_keys = {key for key, _ in self.repeated}
        groups: list[FileGroup] = []
        for key in sorted(self.files.keys() | self.rejected.keys()):
            files = self.files.get(key, {})
            if key in self.rejected:
                self._reject(key, files)
            if not files:
                continue
            if key in repeated_keys:
                self.problems.extend(self._repeated(key, specs))
            elif all(spec.name in files for spec in required):
                groups.append(FileGroup(key, files))
            else:
                rejected = {spec.name for spec, _, _ in self.rejected.get(key, ())}
                missing = [spec for spec in required if spec.name not in files and spec.name not in rejected]
                self.problems.extend(self._missing(key, spec, files) for spec in missing)
        return groups, self.problems

    def _reject(self, key: str, files: dict[str, Path]) -> None:
        """One problem per file of ``key`` with a wrong extension, saying when its unit fails for it."""
        for spec, path, ext in self.rejected[key]:
            fails = spec.is_required and spec.name not in files
            self.problems.append(_bad_extension(path, ext, spec, key if fails else None))

    def _repeated(self, key: str, specs: Sequence[FileSpec]) -> list[FileProblem]:
        """One problem per specification of ``key`` with more than one file of that stem."""
        return [
            _duplicate_stem(key, spec, self.repeated[key, spec.name])
            for spec in specs
            if (key, spec.name) in self.repeated
        ]

    def _missing(self, key: str, spec: FileSpec, files: dict[str, Path]) -> FileProblem:
        """The problem of a group without its required ``spec`` file, naming where it was expected."""
        base = self.assets[spec.name].path / key
        exts = spec.extensions
        expected = Path(f"{base}{exts[0]}") if exts else base
        if not exts:
            shown = f"{base}.<any extension>"
        else:
            shown = f"{expected} (or {', '.join(exts[1:])})" if len(exts) > 1 else str(expected)
        have = ", ".join(str(path) for path in files.values())
        return FileProblem(
            expected,
            spec.name,
            f"{shown}: missing, and data unit '{key}' requires a '{spec.name}' file (it has {have}); "
            "add the file, or remove the unit's other files",
        )


def _bad_extension(path: Path, ext: str, spec: FileSpec, failed_key: str | None) -> FileProblem:
    """The problem of a file its specification does not accept (and of its unit, when that fails)."""
    what = f"'{ext}' is not an allowed extension" if ext else "a file without extension is not allowed"
    allowed = ", ".join(spec.extensions)
    skipped = f"; data unit '{failed_key}' is skipped" if failed_key is not None else ""
    return FileProblem(
        path,
        spec.name,
        f"{path}: {what} for '{spec.name}' files (allowed: {allowed}); convert or rename the file, "
        f"or add the extension to the collection's specification{skipped}",
    )


def _duplicate_stem(key: str, spec: FileSpec, paths: list[Path]) -> FileProblem:
    """The problem of two or more files of one specification sharing a stem."""
    names = " and ".join(str(path) for path in paths)
    return FileProblem(
        paths[0],
        spec.name,
        f"{names} share the stem '{key}' for '{spec.name}'; keep one (a data unit holds one file per "
        "specification); data unit skipped",
    )
