"""Free the folders of runs that ended long enough ago: their working folders and job output."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from synapse_sdk.errors import RunNotFound

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import RunsResource
    from synapse_sdk.settings import Settings

DAY = 86_400.0


@dataclass(frozen=True)
class Freed:
    """One folder freed (or that would be): whose it was, where, how many bytes."""

    run_id: str
    path: Path
    size: int


def prune_run_folders(
    runs: RunsResource, settings: Settings, *, older_than_days: float, dry_run: bool = False
) -> list[Freed]:
    """Remove ``runs/<id>/`` and ``jobs/<id>/`` of every run that ended over ``older_than_days`` ago.

    Active runs are never touched, and neither is a folder whose run the store does not know
    (it may belong to a run being created right now, or to another store). Run records stay.
    """
    cutoff = time.time() - older_than_days * DAY
    freed = []
    for root in (settings.runs_dir, settings.jobs_dir):
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            try:
                record = runs.get_run(folder.name)
            except RunNotFound:
                continue
            if not record.status.is_terminal or (record.finished_at or record.created_at) > cutoff:
                continue
            size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
            if not dry_run:
                shutil.rmtree(folder)
            freed.append(Freed(record.id, folder, size))
    return freed
