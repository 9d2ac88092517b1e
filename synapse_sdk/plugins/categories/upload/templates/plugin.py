"""``BaseUploader``: the class upload plugins subclass to change a step of an upload.

Example: convert TIFF scans to JPEG before they are uploaded::

    from PIL import Image
    from synapse_sdk.plugins.categories.upload.templates.plugin import BaseUploader

    class Uploader(BaseUploader):
        def process_files(self, files):
            for group in files:
                scan = group["files"].get("image")
                if scan is not None and scan.suffix.lower() == ".tif":
                    jpeg = self.work_dir / f"{scan.stem}.jpg"
                    Image.open(scan).convert("RGB").save(jpeg, quality=90)
                    group["files"]["image"] = jpeg
            return files

With ``entrypoint: plugin.upload.Uploader`` in config.yaml, ``Uploader.as_action()`` turns it
into the plugin's ``upload`` action.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from synapse_sdk.plugins.categories.plugin_class import bound_action, declared_params_model
from synapse_sdk.plugins.categories.upload.actions.upload import UploadAction, UploadParams

#: A data unit's files before upload: ``{"files": {spec_name: Path}, "meta": {...}}``.
FileGroupDict = dict[str, Any]

#: The hooks ``handle_upload_files()`` runs on each batch of file groups, in order.
HOOKS = ("organize_files", "before_process", "process_files", "after_process", "validate_files")

#: Extensions per file type that ``validate_files`` keeps (``get_file_extensions_config()``).
FILE_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image": (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"),
    "video": (".mp4", ".avi", ".mov", ".mkv", ".webm", ".wmv", ".flv", ".m4v"),
    "audio": (".mp3", ".wav", ".flac", ".aac", ".ogg", ".m4a"),
    "pcd": (".pcd", ".ply", ".las", ".laz", ".bin"),
    "text": (".txt", ".csv", ".tsv", ".md", ".html", ".xml"),
    "json": (".json", ".jsonl"),
}


class HookFailed(Exception):  # noqa: N818 - names what happened, like StopIteration
    """A hook raised on a batch: every group of the batch fails with ``reason``."""

    def __init__(self, hook: str, error: BaseException) -> None:
        super().__init__(f"{hook} failed: {type(error).__name__}: {error}")
        self.hook = hook
        self.error = error


class BaseUploader:
    """Prepares the file groups an upload sends: one group per data unit.

    Required: nothing. ``handle_upload_files()`` runs ``setup_directories()`` once, then on each
    batch of groups ``organize_files``, ``before_process``, ``process_files`` (your own step:
    convert, resize, make thumbnails; the default passes files through), ``after_process``,
    ``validate_files`` (keeps the extensions ``get_file_extensions_config()`` allows for each
    specification's file type, one warning per type for the rest), and ``filter_files(group)``
    (False drops a group). Each hook returns the groups to go on with: what the last returns is
    uploaded. A hook that raises fails the groups of its batch, not the upload.

    A group is ``{"files": {spec_name: Path}, "meta": {...}}``; ``meta`` (the metadata file's
    row for it, if any) becomes the data unit's ``meta``. ``self.work_dir`` is a folder of the
    run for converted files.
    """

    #: The params model of the action ``as_action()`` builds; subclass ``UploadParams`` to add fields.
    params_model: ClassVar[type[UploadParams]] = UploadParams

    def __init__(
        self,
        run: Any,
        path: Path,
        file_specification: Sequence[Mapping[str, Any]] | None = None,
        organized_files: Sequence[FileGroupDict] | None = None,
        extra_params: Mapping[str, Any] | None = None,
    ) -> None:
        self.run = run
        self.path = Path(path)
        self.file_specification = [dict(spec) for spec in file_specification or ()]
        self.organized_files = list(organized_files or ())
        self.extra_params = dict(extra_params or {})
        #: The client of the platform (set by the action).
        self.client: Any = None
        self._work_dir: Path | None = None
        #: file type -> (files dropped by validate_files, the first names, the extensions allowed)
        self._filtered: dict[str, tuple[int, list[str], set[str]]] = {}

    # -- hooks ----------------------------------------------------------------------------------

    def setup_directories(self) -> None:
        """Create the folders the other hooks write into (once per upload)."""

    def organize_files(self, files: list[FileGroupDict]) -> list[FileGroupDict]:
        """Rearrange the groups (e.g. pair files differently); returns the groups to go on with."""
        return files

    def before_process(self, files: list[FileGroupDict]) -> list[FileGroupDict]:
        """Prepare the groups for ``process_files``."""
        return files

    def process_files(self, files: list[FileGroupDict]) -> list[FileGroupDict]:
        """The plugin's own step (convert, resize...); may return new groups. Default: pass through."""
        return files

    def after_process(self, files: list[FileGroupDict]) -> list[FileGroupDict]:
        """Finish the groups after ``process_files``."""
        return files

    def validate_files(self, files: list[FileGroupDict]) -> list[FileGroupDict]:
        """Keep the files whose extension their specification's file type allows (or the specification
        itself lists); the others are dropped, one warning per file type."""
        config = {kind: {e.lower() for e in exts} for kind, exts in self.get_file_extensions_config().items()}
        kinds: dict[str, str] = {}
        allowed: dict[str, set[str]] = {}
        for spec in self.file_specification:
            kind = kinds[spec["name"]] = str(spec.get("file_type") or "other")
            if kind in config:
                allowed[spec["name"]] = config[kind] | {e.lower() for e in spec.get("extensions") or ()}
        for group in files:
            kept = {}
            for spec_name, file in group["files"].items():
                if spec_name in allowed and Path(file).suffix.lower() not in allowed[spec_name]:
                    kind = kinds[spec_name]
                    count, names, _ = self._filtered.get(kind, (0, [], config[kind]))
                    shown = names if len(names) >= 5 else [*names, Path(file).name]
                    self._filtered[kind] = (count + 1, shown, config[kind])
                else:
                    kept[spec_name] = file
            group["files"] = kept
        return [group for group in files if group["files"]]

    def log_filtered(self) -> None:
        """One warning per file type for the files ``validate_files`` dropped (after the batches)."""
        for kind, (count, names, allowed) in self._filtered.items():
            shown = ", ".join(names) + (f" and {count - len(names)} more" if count > len(names) else "")
            self.run.log_message(
                f"{count} {kind} file(s) filtered out: their extension is not one of "
                f"{', '.join(sorted(allowed))} ({shown})",
                "WARNING",
            )
        self._filtered.clear()

    def filter_files(self, organized_file: FileGroupDict) -> bool:
        """Whether to upload this group (True unless a subclass says otherwise)."""
        return True

    def get_file_extensions_config(self) -> dict[str, Sequence[str]]:
        """Allowed extensions per file type (``image``, ``video``...); a type not listed allows any."""
        return dict(FILE_EXTENSIONS)

    # -- running the hooks ------------------------------------------------------------------------

    @property
    def work_dir(self) -> Path:
        """A folder for files the hooks make (in the run's folder, else a temporary one)."""
        if self._work_dir is None:
            folder = getattr(self.run, "path", None)
            base = Path(folder) / "upload_work" if folder is not None else Path(tempfile.mkdtemp())
            base.mkdir(parents=True, exist_ok=True)
            self._work_dir = base
        return self._work_dir

    def handle_upload_files(self) -> list[FileGroupDict]:
        """Run every hook over ``organized_files``; the groups to upload (a hook's failure raises)."""
        self.setup_directories()
        try:
            return self.process_batch(self.organized_files)
        finally:
            self.log_filtered()

    def batches(self, size: int) -> Iterator[tuple[list[FileGroupDict], list[FileGroupDict] | HookFailed]]:
        """``setup_directories()``, then per batch of ``size`` groups: ``(given, returned)``, where
        ``returned`` is the groups to upload or the ``HookFailed`` that fails the batch."""
        self.setup_directories()
        for start in range(0, len(self.organized_files), size):
            given = self.organized_files[start : start + size]
            try:
                returned: list[FileGroupDict] | HookFailed = self.process_batch([_copied(g) for g in given])
            except HookFailed as failed:
                returned = failed
            yield given, returned
        self.log_filtered()

    def process_batch(self, files: list[FileGroupDict]) -> list[FileGroupDict]:
        """The hooks over one batch of groups; ``HookFailed`` names the hook that raised."""
        for hook in HOOKS:
            try:
                files = _checked(hook, getattr(self, hook)(files))
            except HookFailed:
                raise
            except Exception as exc:  # noqa: BLE001 - a plugin hook's failure fails its batch only
                raise HookFailed(hook, exc) from exc
        try:
            return [group for group in files if self.filter_files(group)]
        except Exception as exc:  # noqa: BLE001 - as above
            raise HookFailed("filter_files", exc) from exc

    # -- the action -----------------------------------------------------------------------------

    @classmethod
    def declared_params_model(cls) -> type[UploadParams]:
        """``params_model`` when the uploader sets it, else the one ``UploadParams`` subclass its
        module defines, else ``UploadParams``."""
        found: type[UploadParams] = declared_params_model(cls, BaseUploader, UploadParams, "upload")
        return found

    @classmethod
    def as_action(cls) -> type[UploadAction]:
        """The ``upload`` action class that runs this uploader (one per uploader class)."""
        return bound_action(cls, UploadAction, "uploader_class")


def _copied(group: FileGroupDict) -> FileGroupDict:
    """A group the hooks may change in place without changing ``organized_files``."""
    return {**group, "files": dict(group.get("files") or {}), "meta": dict(group.get("meta") or {})}


def _checked(hook: str, returned: Any) -> list[FileGroupDict]:
    """A hook's return value: a list of ``{"files": {...}, "meta": {...}}`` groups."""
    if not isinstance(returned, list | tuple):
        raise HookFailed(
            hook,
            TypeError(f"expected a list of file groups, got {type(returned).__name__}; return the groups"),
        )
    for group in returned:
        if not isinstance(group, dict) or not isinstance(group.get("files"), dict):
            raise HookFailed(
                hook,
                TypeError(
                    f"expected groups like {{'files': {{spec: path}}, 'meta': {{}}}}, got {group!r:.80}"
                ),
            )
    return list(returned)
