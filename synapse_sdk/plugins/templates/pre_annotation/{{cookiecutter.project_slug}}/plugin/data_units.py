"""Shared by both actions: find the files to annotate, one data unit per distinct content.

Left unset, ``source_path`` is the bundled sample_data/raw and ``output_path`` a file in the run's
folder; paths the user passes are relative to the current folder (where they ran the command),
never to the plugin folder: a published release is read-only.
"""

import hashlib
from pathlib import Path

SAMPLE_RAW = Path(__file__).resolve().parents[1] / "sample_data" / "raw"

#: The descriptions of the params both actions share.
SOURCE_PATH_HELP = (
    "The folder of raw files to annotate (relative to the current folder). "
    "Default: the bundled sample_data/raw."
)
EXTENSIONS_HELP = "The file types that become data units; other files are listed as ignored"


def user_path(path: str) -> Path:
    """A path the user passed: absolute as given, relative to the current folder otherwise."""
    return Path(path).expanduser().resolve()


def source_folder(path: str | None) -> Path:
    """The folder ``source_path`` names: the bundled sample_data/raw when it is unset."""
    return SAMPLE_RAW if path is None else user_path(path)


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
