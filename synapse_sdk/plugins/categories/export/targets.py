"""Where export items come from and where exported files go.

The Synapse data platform (projects, assignments, ground truth, tasks) is not connected yet, so
the one source here is local: ``filter: {"source": "items.json"}`` names a JSON list or JSONL
file of items ``{"id": ..., "files": {...}, "data": {...}}``. ``get_export_items`` is the single
function to replace when the platform arrives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from synapse_sdk.errors import ParamsError, PathOutsideRoot


class LocalItems:
    """Export items read from a JSON list or a JSONL file; iterable more than once, sized."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self._jsonl = file.suffix.lower() in (".jsonl", ".ndjson")
        self._items: list[dict[str, Any]] | None = None if self._jsonl else self._load_list()

    def _load_list(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ParamsError(f"{self.file}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            data = data["items"]
        if not isinstance(data, list):
            raise ParamsError(f'{self.file}: expected a JSON list of items like [{{"id": 1, "data": {{}}}}]')
        return [self._item(item, n) for n, item in enumerate(data, start=1)]

    def _item(self, item: Any, where: int) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise ParamsError(f'{self.file}: item {where} is not an object; items look like {{"id": 1}}')
        files = item.get("files")
        if isinstance(files, dict) and files.get("path"):
            # Relative file paths in the item file are relative to the item file itself.
            files = {**files, "path": str((self.file.parent / files["path"]).resolve())}
            item = {**item, "files": files}
        return item

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._items is not None:
            yield from self._items
            return
        with self.file.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    try:
                        yield self._item(json.loads(line), number)
                    except json.JSONDecodeError as exc:
                        raise ParamsError(f"{self.file}: line {number}: invalid JSON: {exc.msg}") from None

    def __len__(self) -> int:
        if self._items is not None:
            return len(self._items)
        with self.file.open(encoding="utf-8") as lines:
            return sum(1 for line in lines if line.strip())


def get_export_items(params: Mapping[str, Any], plugin_path: Path | None = None) -> LocalItems:
    """The items to export for validated ``ExportParams``; relative sources are in the plugin folder."""
    source = (params.get("filter") or {}).get("source")
    if not source:
        raise ParamsError(
            f"params.filter: exporting target {params.get('target')!r} from the Synapse platform is not "
            'available yet; export local items with a filter like {"source": "sample_data/items.json"} '
            "(a JSON list or JSONL file of items)"
        )
    file = Path(str(source)).expanduser()
    if not file.is_absolute():
        file = (plugin_path or Path.cwd()) / file
    if not file.is_file():
        raise ParamsError(f"params.filter.source: {file} not found; name a JSON or JSONL file of items")
    return LocalItems(file)


def storage_root(storage: int | str, base: Path | None = None) -> Path:
    """A local storage's root: ``$SYNAPSE_HOME/storages/<id>`` for an id, else a folder under ``base``."""
    if isinstance(storage, int):
        from synapse_sdk.settings import Settings

        return Settings.from_env().home / "storages" / str(storage)
    return ((base or Path.cwd()) / Path(storage).expanduser()).resolve()


def export_root(storage: int | str, path: str, base: Path | None = None) -> Path:
    """The folder exports go to: ``path`` inside the storage root, never outside it."""
    root = storage_root(storage, base).resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        raise PathOutsideRoot(f"params.path: {path!r} leaves the storage root {root}; use a relative path")
    return target
