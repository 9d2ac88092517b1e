"""``BaseExporter``: the class export plugins subclass to convert and save items.

Example::

    from synapse_sdk.plugins.categories.export.templates.plugin import BaseExporter

    class Exporter(BaseExporter):
        def convert_data(self, data):
            boxes = data["data"]["images"][0]["bounding_box"]
            data["data"] = {"labels": [box["classification"] for box in boxes]}
            return data

With ``entrypoint: plugin.export.Exporter`` in config.yaml, ``Exporter.as_action()`` turns it
into the plugin's ``export`` action.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from synapse_sdk.errors import ExecutionError
from synapse_sdk.plugins.categories.export.actions.export import ExportAction, ExportParams
from synapse_sdk.plugins.categories.export.engine import (
    ExportLoop,
    Tally,
    counted,
    frozen_heap,
    sha256_of,
)
from synapse_sdk.plugins.categories.export.enums import ExportStatus
from synapse_sdk.plugins.categories.export.folders import ExportFolders
from synapse_sdk.plugins.categories.export.manifest import MANIFEST_NAME, Manifest, ManifestState
from synapse_sdk.plugins.categories.export.originals import copy_original
from synapse_sdk.plugins.categories.export.shards import num_shards
from synapse_sdk.plugins.categories.plugin_class import bound_action, declared_params_model

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient
    from synapse_sdk.formats.writers import FormatWriter
    from synapse_sdk.plugins.categories.export.output import Destination

#: The file listing every file that failed, in the export folder.
ERROR_FILE_NAME = "error_file_list.json"


class BaseExporter(ExportFolders):
    """Converts export items and saves each (as JSON, or in a dataset format), with its original file.

    Required: nothing; ``convert_data`` returns the item unchanged by default. Per item, in
    order: ``before_convert`` (return ``None`` to skip the item), ``convert_data``,
    ``after_convert`` (the three are ``process_data_conversion``), then ``save_original_file``
    (on a pool of ``copy_workers`` threads) and ``save_as_json``. Per export:
    ``setup_output_directories`` first, ``additional_file_saving`` last. A hook that raises (or a
    save that returns ``ExportStatus.FAILED``) fails only that item: the export goes on, lists it
    in ``error_file_list.json`` and counts it. If every item fails, the run fails.

    Items look like ``{"id": 1, "data": <DM v2 annotation>, "files": {"file_name_original":
    "a.jpg", "file_name": "a.jpg", "data_file": 7, "checksum": ..., "width": 640, ...}}`` (see
    ``export/targets``); ``files.file_name`` is the file's name in this export: its original
    name, or ``<stem>_<id><ext>`` when an earlier item had that name. A conversion may return
    such an item or just the data to write.

    ``extra_params.output_format`` picks the output: ``json`` (``save_as_json`` per item, the
    default), a built-in dataset format (``coco``, ``yolo``, ``voc``, ``imagefolder``: the
    converted ``data`` must stay DM v2), or any other name a subclass's ``save_as_json``
    handles itself.
    """

    #: The params model of the action ``as_action()`` builds; subclass ``ExportParams`` to add fields.
    params_model: ClassVar[type[ExportParams]] = ExportParams
    #: Original files copied at once.
    copy_workers: ClassVar[int] = 8

    def __init__(
        self, run: Any, export_items: Iterable[dict[str, Any]], path_root: Path, **params: Any
    ) -> None:
        self.run = run
        self.export_items = export_items
        self.path_root = Path(path_root)
        self.params = params
        #: The platform: originals are read through it (set by the action).
        self.client: BackendClient | None = None
        #: Where the export goes: a local storage's folder, or a staging folder published at the end.
        self.destination: Destination | None = None
        #: The export action running this exporter (set by the action; a sharded export ships its plugin).
        self.action: Any = None
        self._verified: dict[str, str] = {}

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
        """The name of an item's file in this export (``files.file_name``, else its original name)."""
        if isinstance(files, list) and files:
            files = files[0]
        if isinstance(files, Mapping):
            for key in ("file_name", "file_name_original", "path", "url"):
                if files.get(key):
                    return _base_name(str(files[key]).split("?", 1)[0])
        raise ValueError(f"cannot tell the file name from files={files!r}; add 'file_name_original'")

    def setup_output_directories(
        self, unique_export_path: Path, save_original_file_flag: bool
    ) -> dict[str, Path]:
        """Create the output folders and return them by name: ``json_output_path`` and, when
        originals are saved, ``origin_files_output_path`` (a dataset format makes its own folders)."""
        if self._writer_class() is not None:
            return {"output_path": unique_export_path}
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
        """Write ``result['data']`` to ``<file name stem>.json`` and record the outcome."""
        file_name = f"{Path(self.get_original_file_name(result['files'])).stem}.json"
        try:
            if result.get("data") is None:
                raise ValueError("the item has no data")
            _write_json(base_path / file_name, result["data"])
            status = ExportStatus.SUCCESS
        except Exception as exc:  # noqa: BLE001 - one bad item must not stop the export
            error_file_list.append([file_name, str(exc)])
            status = ExportStatus.FAILED
        self.run.export_log_json_file(result["id"], {"file_name": file_name}, status)
        return status

    def save_original_file(
        self, result: dict[str, Any], base_path: Path, error_file_list: list[Any]
    ) -> ExportStatus:
        """Copy the item's original file into ``base_path``: from its storage through the platform
        (checked against the data file's sha256), or from a local ``path`` / ``file://`` / http(s) ``url``."""
        files = result.get("files") or {}
        file_name = self.get_original_file_name(files)
        try:
            self.copy_original(files, base_path / file_name)
        except Exception as exc:  # noqa: BLE001 - one bad item must not stop the export
            error_file_list.append([file_name, str(exc)])
            self.run.log_message(f"item {result.get('id')}: {file_name} not copied: {exc}", "WARNING")
            return ExportStatus.FAILED
        return ExportStatus.SUCCESS

    def additional_file_saving(self, unique_export_path: Path) -> None:
        """Write files that depend on all items (summaries, indexes) after the loop."""

    # -- copying originals ------------------------------------------------------------------------

    def copy_original(self, files: Mapping[str, Any], target: Path) -> str:
        """Copy an item's original file to ``target`` (whole or not at all, checked against the data
        file's sha256); returns the sha256."""
        checksum = copy_original(files, target, self.client)
        self._verified[str(target)] = checksum
        return checksum

    def verified_checksum(self, path: Path) -> str:
        """The sha256 of a file this export wrote (known if ``copy_original`` made it)."""
        return self._verified.pop(str(path), None) or sha256_of(path)

    # -- the export -------------------------------------------------------------------------------

    @property
    def output_format(self) -> str:
        """``extra_params.output_format``: ``json`` (the default), a dataset format, or a name this
        exporter's own ``save_as_json`` handles; ``UsageError`` for any other."""
        fmt = str(self.params.get("output_format") or "json")
        if fmt == "json" or fmt in _writers() or type(self).save_as_json is not BaseExporter.save_as_json:
            return fmt
        from synapse_sdk.formats.writers import get_writer

        get_writer(fmt)  # raises, naming the formats there are
        return fmt

    def _writer_class(self) -> type[FormatWriter] | None:
        return _writers().get(self.output_format)

    def classes(self) -> list[str]:
        """The export's classes: the project configuration's, in order (a dataset format's ids)."""
        found = getattr(self.export_items, "classes", None)
        if found is not None:
            return list(found)
        from synapse_sdk.plugins.categories.export.targets.classes import classes_of_items

        return classes_of_items(self.export_items)

    def export(
        self, export_items: Iterable[Any] | None = None, results: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Convert and save every item (progress ``dataset_conversion``); return a summary.

        The export folder gets a manifest as items finish: with ``resume`` the latest export of
        this name goes on where it stopped, and ends byte for byte as an uninterrupted one.
        """
        items = export_items if export_items is not None else self.export_items
        fmt = self.output_format
        shards = num_shards({"extra_params": {"num_shards": self.params.get("num_shards", 1)}})
        remote = None
        if shards > 1:  # the cluster first: an export that cannot run its shards writes nothing
            from synapse_sdk.plugins.categories.export.shards import ShardedLoop, remote_chunks

            remote = remote_chunks(self)
        export_path, state = self._export_folder()
        if state is not None and state.done is not None and not state.failed:
            return self._complete_already(export_path, state, results)
        total, items = counted(items)
        save_original = bool(self.params.get("save_original_file"))
        paths = self.setup_output_directories(export_path, save_original)
        writer_class = self._writer_class()
        classes = self.classes() if writer_class is not None else None
        writer = writer_class(export_path, classes or []) if writer_class is not None else None
        if state is not None:
            manifest = Manifest.resume(export_path, state)
            again = f", {len(state.failed)} failed: trying them again" if state.failed else ""
            self.run.log_message(
                f"Resuming the export in {self._where(export_path)}: "
                f"{len(state.items)} of {total} item(s) were done{again}"
            )
        else:
            manifest = Manifest.create(export_path, self.fingerprint())
            self.run.log_message(f"Exporting {total} item(s) as {fmt} to {self._where(export_path)}")
        if writer is not None:
            manifest.before_flush = writer.flush
        try:
            if remote is not None:
                loop: ExportLoop = ShardedLoop(
                    self, export_path, paths, manifest, state, total, writer,
                    shards=shards, classes=classes, remote=remote,
                )  # fmt: skip
            else:
                loop = ExportLoop(self, export_path, paths, manifest, state, total, writer)
            with frozen_heap():
                tally = loop.run(items)
                if writer is not None:
                    writer.close()
            self.additional_file_saving(export_path)
            error_file = self._save_error_list(export_path, tally)
        except BaseException:
            manifest.close()
            raise
        summary = {
            **(results or {}), "export_path": self._where(export_path), "output_format": fmt, "total": total,
            **tally.items, "resumed": len(state.items) - len(state.failed) if state else 0,
            "error_file_list": error_file, "files": tally.kinds,
        }  # fmt: skip
        manifest.finish({"result": summary})
        self._publish(export_path)
        return self._outcome(summary)

    def plan(self) -> dict[str, Any]:
        """What ``export()`` would do, written nowhere: the item count, the folder, the format."""
        fmt = self.output_format
        total, _ = counted(self.export_items)
        latest = self._latest(self.params["name"]) if self.params.get("resume") else None
        name = latest or self._free_name(self.params["name"])
        plan = {
            "dry_run": True, "target": self.params.get("target"), "filter": self.params.get("filter"),
            "items": total, "export_path": self._where(self.path_root / name), "output_format": fmt,
            "save_original_file": bool(self.params.get("save_original_file")), "resume": latest is not None,
        }  # fmt: skip
        self.run.log_message(
            f"Dry run: would export {total} {plan['target']} item(s) as {fmt} to {plan['export_path']}"
            + (" (resuming it)" if latest else "")
        )
        return plan

    # -- the end ----------------------------------------------------------------------------------

    def _save_error_list(self, export_path: Path, tally: Tally) -> str | None:
        """Write ``error_file_list.json`` (every failed file, in stream order) if anything failed."""
        report = tally.error_report()
        if not any(report.values()):
            (export_path / ERROR_FILE_NAME).unlink(missing_ok=True)  # one a run resumed here had left
            return None
        _write_json(export_path / ERROR_FILE_NAME, report)
        return f"{self._where(export_path)}/{ERROR_FILE_NAME}"

    def _publish(self, export_path: Path) -> None:
        if self.destination is not None and self.destination.is_remote:
            count = self.destination.publish(export_path)
            self.run.log_message(f"Published {count} file(s) to {self._where(export_path)}")

    def _complete_already(
        self, export_path: Path, state: ManifestState, results: dict[str, Any] | None
    ) -> dict[str, Any]:
        assert state.done is not None
        if export_path.is_dir() and (export_path / MANIFEST_NAME).is_file():
            self._publish(export_path)  # a run killed while publishing: publish it all again
        self.run.log_message(f"The export in {self._where(export_path)} is complete: nothing to do")
        return {**(results or {}), **state.done.get("result", {}), "already_complete": True}

    def _outcome(self, summary: dict[str, Any]) -> dict[str, Any]:
        total, failed, success = summary["total"], summary["failed"], summary["success"]
        counts = "{success} saved, {failed} failed, {skipped} skipped".format(**summary)
        if total == 0:
            self.run.log_message(
                f"Nothing to export: target {self.params.get('target')!r} with filter "
                f"{self.params.get('filter')} has no items; "
                f"wrote an empty export to {summary['export_path']}",
                "WARNING",
            )
            return summary
        self.run.log_message(f"Export finished: {counts}")
        if failed and not success:
            raise ExecutionError(f"every item failed ({counts}); see {summary['error_file_list']}")
        if failed:
            self.run.log_message(
                f"{failed} of {total} item(s) failed; "
                f"the failed files are listed in {summary['error_file_list']}",
                "WARNING",
            )
        return summary

    # -- the action -----------------------------------------------------------------------------

    @classmethod
    def declared_params_model(cls) -> type[ExportParams]:
        """The params model: ``params_model`` when the exporter sets it, else the one ``ExportParams``
        subclass its module defines (the spec's ``CustomExportParams`` beside its ``Exporter``)."""
        found: type[ExportParams] = declared_params_model(cls, BaseExporter, ExportParams, "export")
        return found

    @classmethod
    def as_action(cls) -> type[ExportAction]:
        """The ``export`` action class that runs this exporter (one per exporter class)."""
        return bound_action(cls, ExportAction, "exporter_class")


def as_result(converted: Any, item: Any, item_id: Any) -> dict[str, Any]:
    """A converted item keeps its own id/files/data; bare converted data gets the source item's."""
    files = item.get("files") if isinstance(item, dict) else None
    if isinstance(converted, dict) and "data" in converted and "id" in converted:
        return {"files": files, **converted}
    return {"id": item_id, "files": files or {"file_name_original": f"{item_id}.json"}, "data": converted}


def _base_name(path: str) -> str:
    """``Path(path).name``, without building a path for the usual ``folder/name.ext``."""
    name = path.rpartition("/")[2]
    if name and name != "." and "\\" not in name:
        return name
    return Path(path).name  # a trailing "/" or "." (pathlib drops them), or a Windows separator


def _writers() -> Mapping[str, type[FormatWriter]]:
    try:
        from synapse_sdk.formats.writers import WRITERS
    except ImportError:  # the formats are not installed in this build: json only
        return {}
    return WRITERS


def _write_json(path: Path, data: Any) -> None:
    with path.open("w", encoding="utf-8") as f:
        json.dump(data, f, indent=4, ensure_ascii=False, default=str)
