"""``BaseExporter``: the class export plugins subclass to convert and save items.

Example::

    from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

    class Exporter(BaseExporter):
        def convert_data(self, data):
            data["data"] = {"labels": [a["label"] for a in data["data"]["annotations"]]}
            return data

With ``entrypoint: plugin.export.Exporter`` in config.yaml, ``Exporter.as_action()`` turns it
into the plugin's ``export`` action.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sized
from itertools import tee
from pathlib import Path
from typing import Any, ClassVar

from synapse_sdk.plugins.categories.export.actions.export import ExportAction, ExportParams
from synapse_sdk.plugins.categories.export.enums import ExportStatus

#: How often (in items) the running counts are recorded as metrics.
METRICS_EVERY = 100


class BaseExporter:
    """Converts export items and saves each as JSON (and optionally its original file).

    Required: nothing; ``convert_data`` returns the item unchanged by default. Optional hooks,
    in the order they run per item: ``before_convert`` (return ``None`` to skip the item),
    ``convert_data``, ``after_convert``, then ``save_as_json`` and ``save_original_file``.
    Per export: ``setup_output_directories`` and ``additional_file_saving``. A hook that raises
    fails only that item; the export goes on and lists it in ``error_file_list.json``.
    Items look like ``{"id": 1, "files": {"file_name_original": "a.jpg", "path": ...}, "data": {...}}``;
    a conversion may return such an item or just the data to write.
    """

    #: The params model of the action ``as_action()`` builds; subclass ``ExportParams`` to add fields.
    params_model: ClassVar[type[ExportParams]] = ExportParams

    def __init__(
        self, run: Any, export_items: Iterable[dict[str, Any]], path_root: Path, **params: Any
    ) -> None:
        self.run = run
        self.export_items = export_items
        self.path_root = Path(path_root)
        self.params = params

    # -- hooks ----------------------------------------------------------------------------------

    def before_convert(self, export_item: Any) -> Any:
        """Prepare one item before conversion; return ``None`` to skip it."""
        return export_item

    def convert_data(self, data: Any) -> Any:
        """Convert one item to the output format."""
        return data

    def after_convert(self, converted_data: Any) -> Any:
        """Finish one converted item before it is saved."""
        return converted_data

    def process_data_conversion(self, export_item: Any) -> Any:
        """Run ``before_convert``, ``convert_data`` and ``after_convert``; ``None`` means skipped."""
        prepared = self.before_convert(export_item)
        if prepared is None:
            return None
        return self.after_convert(self.convert_data(prepared))

    def get_original_file_name(self, files: Any) -> str:
        """The original file name of an item's ``files`` entry."""
        if isinstance(files, list) and files:
            files = files[0]
        if isinstance(files, dict):
            for key in ("file_name_original", "file_name", "path", "url"):
                if files.get(key):
                    return Path(str(files[key]).split("?", 1)[0]).name
        raise ValueError(f"cannot tell the file name from files={files!r}; add 'file_name_original'")

    def setup_output_directories(
        self, unique_export_path: Path, save_original_file_flag: bool
    ) -> dict[str, Path]:
        """Create the output folders and return them by name (``json_output_path`` ...)."""
        json_path = unique_export_path / "json"
        json_path.mkdir(parents=True, exist_ok=True)
        paths = {"json_output_path": json_path}
        if save_original_file_flag:
            origin = unique_export_path / "origin_files"
            origin.mkdir(parents=True, exist_ok=True)
            paths["origin_files_output_path"] = origin
        return paths

    def save_as_json(
        self, result: dict[str, Any], base_path: Path, error_file_list: list[Any]
    ) -> ExportStatus:
        """Write ``result['data']`` to ``<original name>.json`` and record the outcome."""
        file_name = f"{Path(self.get_original_file_name(result['files'])).stem}.json"
        try:
            if result.get("data") is None:
                raise ValueError("the item has no data")
            with (base_path / file_name).open("w", encoding="utf-8") as f:
                json.dump(result["data"], f, indent=4, ensure_ascii=False, default=str)
            status = ExportStatus.SUCCESS
        except Exception as exc:  # noqa: BLE001 - one bad item must not stop the export
            error_file_list.append([file_name, str(exc)])
            status = ExportStatus.FAILED
        self.run.export_log_json_file(result["id"], {"file_name": file_name}, status)
        return status

    def save_original_file(
        self, result: dict[str, Any], base_path: Path, error_file_list: list[Any]
    ) -> ExportStatus:
        """Copy the item's original file (a local ``path``, or a ``file://`` / http(s) ``url``)."""
        files = result.get("files") or {}
        file_name = self.get_original_file_name(files)
        try:
            _fetch(files, base_path / file_name)
            status = ExportStatus.SUCCESS
        except Exception as exc:  # noqa: BLE001 - one bad item must not stop the export
            error_file_list.append([file_name, str(exc)])
            status = ExportStatus.FAILED
        self.run.log(
            "export_original_file", {"id": result.get("id"), "file_name": file_name, "status": status.value}
        )
        return status

    def additional_file_saving(self, unique_export_path: Path) -> None:
        """Write files that depend on all items (summaries, indexes) after the loop."""

    # -- the loop -------------------------------------------------------------------------------

    def export(self, export_items: Iterable[Any] | None = None, results: dict[str, Any] | None = None,
               **kwargs: Any) -> dict[str, Any]:  # fmt: skip
        """Convert and save every item with progress ``dataset_conversion``; return a summary."""
        items = export_items if export_items is not None else self.export_items
        if isinstance(items, Sized):
            total = len(items)
        else:
            counter, items = tee(items)
            total = sum(1 for _ in counter)
        export_path = self._create_unique_export_path(self.params["name"])
        save_original = bool(self.params.get("save_original_file"))
        paths = self.setup_output_directories(export_path, save_original)
        json_errors: list[Any] = []
        original_errors: list[Any] = []
        counts = {"success": 0, "failed": 0, "skipped": 0}
        self.run.log_message(f"Exporting {total} item(s) to {export_path}")
        for no, item in enumerate(items, start=1):
            counts[self._export_one(no, item, paths, save_original, json_errors, original_errors)] += 1
            self.run.set_progress(min(no, total), max(total, 1), category="dataset_conversion")
            if no % METRICS_EVERY == 0:
                self.run.set_metrics({**counts, "stand_by": total - no}, category="data_file")
        self.run.set_metrics({**counts, "stand_by": 0}, category="data_file")
        self.additional_file_saving(export_path)
        self._save_error_list(export_path, json_errors, original_errors)
        self.run.log_message(
            "Export finished: {success} saved, {failed} failed, {skipped} skipped".format(**counts)
        )
        return {**(results or {}), "export_path": str(export_path), "total": total, **counts}

    def _export_one(self, no: int, item: Any, paths: dict[str, Path], save_original: bool,
                    json_errors: list[Any], original_errors: list[Any]) -> str:  # fmt: skip
        item_id = item.get("id", no) if isinstance(item, dict) else no
        try:
            converted = self.process_data_conversion(item)
        except Exception as exc:  # noqa: BLE001 - a failed item is reported, the export goes on
            self.run.log_message(f"item {item_id}: conversion failed: {type(exc).__name__}: {exc}", "ERROR")
            json_errors.append([str(item_id), f"{type(exc).__name__}: {exc}"])
            return "failed"
        if converted is None:
            return "skipped"
        result = _as_result(converted, item, item_id)
        if save_original and result.get("files"):
            status = self.save_original_file(result, paths["origin_files_output_path"], original_errors)
            if status == ExportStatus.FAILED:
                return "failed"
        status = self.save_as_json(result, paths["json_output_path"], json_errors)
        return "success" if status == ExportStatus.SUCCESS else "failed"

    def _create_unique_export_path(self, base_name: str) -> Path:
        """``path_root/base_name``, or ``base_name(1)``, ``(2)``... if taken; created empty."""
        path = self.path_root / base_name
        counter = 1
        while path.exists():
            path = self.path_root / f"{base_name}({counter})"
            counter += 1
        path.mkdir(parents=True)
        return path

    def _save_error_list(self, export_path: Path, json_errors: list[Any], original_errors: list[Any]) -> None:
        if json_errors or original_errors:
            report = {"json_file_name": json_errors, "origin_file_name": original_errors}
            with (export_path / "error_file_list.json").open("w", encoding="utf-8") as f:
                json.dump(report, f, indent=4, ensure_ascii=False)

    # -- the action -----------------------------------------------------------------------------

    @classmethod
    def as_action(cls) -> type[ExportAction]:
        """The ``export`` action class that runs this exporter (one per exporter class)."""
        action = cls.__dict__.get("_action_class")
        if action is None:
            action = type(
                cls.__name__,
                (ExportAction,),
                {
                    "__module__": cls.__module__,
                    "__qualname__": cls.__qualname__,
                    "__doc__": cls.__doc__,
                    "exporter_class": cls,
                    "params_model": cls.params_model,
                    "is_category_base": False,
                },
            )
            cls._action_class = action  # type: ignore[attr-defined]
        return action


def _as_result(converted: Any, item: Any, item_id: Any) -> dict[str, Any]:
    """A converted item keeps its own id/files/data; bare converted data gets the source item's."""
    if isinstance(converted, dict) and "data" in converted and "id" in converted:
        return {"files": item.get("files") if isinstance(item, dict) else None, **converted}
    files = item.get("files") if isinstance(item, dict) else None
    return {"id": item_id, "files": files or {"file_name_original": f"{item_id}.json"}, "data": converted}


def _fetch(files: dict[str, Any], target: Path) -> None:
    source = files.get("path")
    url = str(files.get("url") or "")
    if not source and url.startswith("file://"):
        source = url.removeprefix("file://")
    if source:
        shutil.copyfile(source, target)
        return
    if url.startswith(("http://", "https://")):
        import httpx

        with httpx.stream("GET", url, timeout=60, follow_redirects=True) as response:
            response.raise_for_status()
            with target.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
        return
    raise ValueError("the item's files have no 'path' or 'url' to copy the original from")
