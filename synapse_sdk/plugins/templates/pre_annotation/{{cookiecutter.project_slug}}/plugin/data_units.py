"""Shared by both actions: find the files to annotate, one data unit per distinct content."""

import hashlib
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parents[1]


def plugin_file(path: str) -> Path:
    """A path from params: absolute as given, relative to the plugin folder otherwise."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else PLUGIN_DIR / candidate


def scan(folder: Path, extensions: list[str]):
    """(data_units, duplicates, ignored): files under ``folder`` de-duplicated by sha256."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    wanted = {e.lower() for e in extensions}
    units, duplicates, ignored, seen = [], [], [], {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = file.relative_to(folder).as_posix()
        if file.suffix.lower() not in wanted:
            ignored.append(relative)
            continue
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        if digest in seen:
            duplicates.append({"file": relative, "same_as": seen[digest]})
            continue
        seen[digest] = relative
        units.append(
            {
                "id": f"du-{len(units) + 1:04d}",
                "file": relative,
                "sha256": digest,
                "size": file.stat().st_size,
            }
        )
    return units, duplicates, ignored
