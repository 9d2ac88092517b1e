"""The JSON the dashboard needs beyond the API: a run's folders and the files in them.

``GET /ui/api/runs/{id}/files`` lists the run's working folder (``SYNAPSE_HOME/runs/<id>/``:
what the action wrote) and its job folder (``jobs/<id>/``: the worker's log, where a traceback
lands); ``GET /ui/api/runs/{id}/files/{run|job}/{path}`` sends one of those files, an image inline
and anything else as a download (never rendered as a page). Both need the token or the session
cookie. (Stopping a run is the API's ``POST /runs/{id}/stop``: with the cookie, it needs the CSRF
token too.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request  # noqa: TID253 - server-only module
from fastapi.responses import FileResponse  # noqa: TID253 - server-only module

from synapse_sdk.backend.server.routes.runs import RunId
from synapse_sdk.errors import ResourceNotFound

#: The pages' own routes, not part of the documented API (left out of /openapi.json).
router = APIRouter(prefix="/ui/api", tags=["dashboard"], include_in_schema=False)

#: Most files one listing shows (a run that wrote a million files is shown in part, and says so).
MAX_FILES = 1000
#: Files shown inline; everything else is sent as an attachment.
INLINE = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
          ".webp": "image/webp"}  # fmt: skip
Where = Literal["run", "job"]


def _folder(request: Request, run_id: str, where: str) -> Path:
    settings = request.app.state.settings
    return (settings.runs_dir if where == "run" else settings.jobs_dir) / run_id


def _listing(root: Path) -> tuple[list[dict[str, Any]], bool]:
    """The regular files under ``root`` (relative paths, sizes, times), sorted; and whether more exist."""
    found: list[dict[str, Any]] = []
    if not root.is_dir():
        return found, False
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            if len(found) == MAX_FILES:
                return found, True
            stat = path.stat()
            rel = path.relative_to(root).as_posix()
            found.append({"path": rel, "size": stat.st_size, "modified": stat.st_mtime,
                          "inline": path.suffix.lower() in INLINE})  # fmt: skip
    return found, False


@router.get("/runs/{run_id}/files")
def run_files(run_id: RunId, request: Request) -> dict[str, Any]:
    """The run's working folder and job folder, each with its files (404 if the run is unknown)."""
    request.app.state.backend.runs.get_run(run_id)
    folders = []
    for where, title in (("run", "working folder"), ("job", "job folder (worker log)")):
        root = _folder(request, run_id, where)
        files, truncated = _listing(root)
        folders.append({"where": where, "title": title, "path": str(root), "exists": root.is_dir(),
                        "files": files, "truncated": truncated})  # fmt: skip
    return {"run": run_id, "folders": folders}


@router.get("/runs/{run_id}/files/{where}/{path:path}")
def run_file(run_id: RunId, where: Where, path: str, request: Request) -> FileResponse:
    """One file of a run's folder: images inline, the rest as a download; nothing outside the folder."""
    root = _folder(request, run_id, where).resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or target == root or not target.is_file():
        raise ResourceNotFound(f"path: no file {path!r} in run {run_id!r}'s {where} folder; list them first")
    kind = INLINE.get(target.suffix.lower())
    return FileResponse(
        target,
        media_type=kind or "application/octet-stream",
        filename=target.name,
        content_disposition_type="inline" if kind else "attachment",
    )
