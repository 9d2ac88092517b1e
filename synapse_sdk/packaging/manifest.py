"""The manifest of an extracted release: every file's size and sha256, checked before each run.

Written into ``releases/<sha>/.synapse/manifest.json`` at extraction (after compiling, before the
folder is made read-only); :func:`verify_release` walks the folder again before a run and
refuses one where a file was changed, added or removed, or a link or special file appeared.
Read-only permissions do not stop every writer (root, a ``chmod``); the manifest does.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Final

from synapse_sdk.errors import ChecksumMismatch
from synapse_sdk.packaging.members import short

#: Where the manifest lives inside an extracted release (``.synapse/`` is never taken from an archive).
MANIFEST: Final = Path(".synapse") / "manifest.json"
FORMAT: Final = 1
_CHUNK: Final = 1 << 20


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def scan(folder: Path) -> tuple[dict[str, int], set[str], list[str]]:
    """The folder as found, links never followed: file -> size, the sub-folders, and anything else.

    Paths are POSIX and relative to ``folder``; the manifest's own ``.synapse/`` is left out.
    """
    files: dict[str, int] = {}
    dirs: set[str] = set()
    others: list[str] = []

    def walk(current: str, rel: str) -> None:
        with os.scandir(current) as entries:
            for entry in entries:
                child = f"{rel}{entry.name}"
                if not rel and entry.name == MANIFEST.parts[0]:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    dirs.add(child)
                    walk(entry.path, child + "/")
                elif entry.is_file(follow_symlinks=False):
                    files[child] = entry.stat(follow_symlinks=False).st_size
                else:
                    others.append(child)

    walk(str(folder), "")
    return files, dirs, others


def write_manifest(folder: Path, archive_checksum: str) -> None:
    """Record every file below ``folder`` (size and sha256) and the archive it came from."""
    files, dirs, others = scan(folder)
    if others:
        raise ChecksumMismatch(f"{folder}: {short(others[0])} is a link or special file; cannot record it")
    manifest = {
        "format": FORMAT,
        "archive": archive_checksum,
        "dirs": sorted(dirs),
        "files": {name: [size, _sha256(str(folder / name))] for name, size in sorted(files.items())},
    }
    path = folder / MANIFEST
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(manifest, indent=0, sort_keys=True), encoding="utf-8")


def _load(folder: Path) -> dict[str, Any] | str:
    """The manifest, or why it cannot be used."""
    path = folder / MANIFEST
    if path.is_symlink() or (folder / MANIFEST.parent).is_symlink():
        return f"{MANIFEST} is a link"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"it has no {MANIFEST} (extracted by an older SDK, or it was removed)"
    except (OSError, ValueError) as exc:
        return f"{MANIFEST} is unreadable ({type(exc).__name__})"
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict):
        return f"{MANIFEST} is not a format-{FORMAT} manifest"
    return data


def problems(folder: Path) -> list[str]:
    """What differs between ``folder`` and its manifest, one short phrase per path (empty: intact)."""
    if folder.is_symlink():
        return ["the release folder is itself a link"]
    manifest = _load(folder)
    if isinstance(manifest, str):
        return [manifest]
    if manifest.get("archive") != folder.name:
        return [f"{MANIFEST} records archive {str(manifest.get('archive'))[:12]}…, not {folder.name[:12]}…"]
    files, dirs, others = scan(folder)
    beside = sorted(os.listdir(folder / MANIFEST.parent))
    found = [f"{short(f'{MANIFEST.parent}/{n}')} was added" for n in beside if n != MANIFEST.name]
    found += [f"{short(name)} is a link or special file" for name in sorted(others)]
    recorded: dict[str, list[Any]] = manifest["files"]
    found += [f"{short(name)} was removed" for name in sorted(recorded.keys() - files.keys())]
    found += [f"{short(name)} was added" for name in sorted(files.keys() - recorded.keys())]
    for name in sorted(set(manifest.get("dirs", [])) ^ dirs):
        found.append(f"folder {short(name + '/')} was {'added' if name in dirs else 'removed'}")
    for name in sorted(files.keys() & recorded.keys()):
        size, digest = recorded[name]
        if files[name] != size or _sha256(str(folder / name)) != digest:
            found.append(f"{short(name)} was changed")
    return found


def verify_release(folder: Path) -> None:
    """Raise ``ChecksumMismatch`` unless ``folder`` still matches the manifest written at extraction.

    The message is one line: the first difference, how many more there are, and the fix.
    """
    found = problems(folder)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ChecksumMismatch(
            f"release folder {folder} differs from what was extracted: {found[0]}{more}; nothing was run; "
            f"delete it ('chmod -R u+w {folder} && rm -rf {folder}') and run again to extract it afresh"
        )
