"""The ``local`` target: export items read from a JSON list or a JSONL file, not from the platform.

``{"target": "local", "filter": {"source": "items.json"}}`` names a file of items
``{"id": ..., "files": {...}, "data": {...}}`` (relative paths: to the plugin folder). It is for
trying an exporter without a platform, and for data exported elsewhere; platform targets are
``assignment``, ``task`` and ``ground_truth`` (see ``targets/__init__.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from synapse_sdk.errors import ParamsError


class LocalItems:
    """Export items read from a JSON list or a JSONL file; iterable more than once, sized.

    A JSONL file streams a line at a time; a JSON list is read whole (it is one document).
    """

    def __init__(self, file: Path) -> None:
        self.file = file
        self._jsonl = file.suffix.lower() in (".jsonl", ".ndjson")
        self._items: list[dict[str, Any]] | None = None if self._jsonl else self._load_list()

    def __repr__(self) -> str:
        return f"LocalItems({str(self.file)!r})"

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
            # A fresh copy per pass: hooks may change an item, the next pass sees it as read.
            yield from (json.loads(json.dumps(item)) for item in self._items)
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

    @cached_property
    def classes(self) -> list[str]:
        """Every class name the items' annotations use, in order of first use (one pass)."""
        from synapse_sdk.plugins.categories.export.targets.classes import classes_of_items

        return classes_of_items(self)


def local_items(source: str, plugin_path: Path | None) -> LocalItems:
    """The items of ``filter.source``: a JSON or JSONL file, relative to the plugin folder."""
    file = Path(source).expanduser()
    if not file.is_absolute():
        file = (plugin_path or Path.cwd()) / file
    if not file.is_file():
        raise ParamsError(f"params.filter.source: {file} not found; name a JSON or JSONL file of items")
    return LocalItems(file)
