"""The upload ``UploadAction.start()`` runs: analyze, then per batch upload files and make data units.

1. **analyze**: the folders of the params (``discovery.py``) give the files, grouped by stem into
   one group per data unit; a metadata file's rows (``metadata.py``) become the groups' ``meta``.
2. Per batch of ``upload_batch_size`` groups: the uploader's hooks (``BaseUploader``), then
   ``batches.py``: the checks of each file (its specification, extension, size), sha256 on a pool
   of ``upload_max_workers``, the files the storage holds already found, the rest sent
   (``transfer.py``), the data units (``units.py``) in requests of
   ``creating_data_unit_batch_size``, and with a ``project`` its tasks. With
   ``extra_params.num_shards`` the batches run in Ray tasks (``shards.py``).

Nothing about a file outlives its batch but counts: memory is the paths of the groups (and their
metadata), however many files there are. A problem with a file fails its data unit alone: it is
counted, logged (``upload_file`` events), listed in ``upload_errors.json`` in the run's folder,
and the upload goes on. If every data unit fails, the run fails; if some do, it succeeds with the counts and
one warning.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import ExecutionError
from synapse_sdk.plugins.categories.upload.batches import Batches, Tally
from synapse_sdk.plugins.categories.upload.discovery import FileGroup, FileProblem
from synapse_sdk.plugins.categories.upload.enums import UploadStatus
from synapse_sdk.plugins.categories.upload.shards import num_shards
from synapse_sdk.plugins.categories.upload.templates.plugin import HookFailed

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.upload.actions.upload import UploadAction
    from synapse_sdk.plugins.categories.upload.target import UploadTarget
    from synapse_sdk.plugins.categories.upload.templates.plugin import BaseUploader

#: The file listing every file that failed, in the run's folder.
ERROR_FILE_NAME: Final = "upload_errors.json"


def upload(action: UploadAction, target: UploadTarget, uploader_class: type[BaseUploader]) -> dict[str, Any]:
    """Upload what ``target`` names; the summary (see the module docstring)."""
    run, params = action.run, action.params
    tally = Tally()
    groups, problems = analyze(target, run)
    for problem in problems:
        tally.fail_file(problem.path, problem.spec, None, problem.message)
        run.log_data_file(
            {
                "path": None if problem.path is None else str(problem.path),
                "spec": problem.spec,
                "error": problem.message,
            },
            UploadStatus.FAILED,
        )
    merged = {**(params.get("extra_params") or {}), **params}
    uploader = uploader_class(
        run,
        target.base_path,
        target.collection["file_specifications"],
        [group.as_dict() for group in groups],
        merged,
    )
    uploader.client = action.client
    del groups  # the uploader holds them
    batch = Batches(
        action.client, run, params, target, tally,
        total_groups=len(uploader.organized_files),
        total_files=sum(len(g["files"]) for g in uploader.organized_files),
    )  # fmt: skip
    run.log_message(
        f"Uploading {batch.total_files} file(s) in {batch.total_groups} data unit(s) to storage "
        f"{target.storage['id']} {target.storage['name']!r}, data collection {target.collection['id']}"
    )
    shards = num_shards(params)
    if shards > 1:
        from synapse_sdk.plugins.categories.upload.shards import upload_sharded  # Ray inside

        upload_sharded(action, target, uploader, batch, shards)
    else:
        with ThreadPoolExecutor(params["upload_max_workers"], thread_name_prefix="upload-hash") as pool:
            batch.pool = pool
            for given, returned in uploader.batches(params["upload_batch_size"]):
                if isinstance(returned, HookFailed):
                    batch.hook_failed(given, returned)
                else:
                    batch.upload(returned)
                tally.groups_done += len(given)
                batch.report()
    batch.report(final=True)
    return outcome(action, target, tally, batch.total_groups)


def analyze(target: UploadTarget, run: Any) -> tuple[list[FileGroup], list[FileProblem]]:
    """Find and group the files; attach the metadata file's rows as each group's ``meta``."""
    from synapse_sdk.plugins.categories.upload.discovery import discover, group_by_stem, single_path_assets

    run.set_progress(0, 3, category="analyze")
    metadata = None
    if target.metadata_path is not None:  # first: a bad metadata file stops the upload before any work
        from synapse_sdk.plugins.categories.upload.metadata import MetadataLimits, read_metadata

        metadata = read_metadata(target.metadata_path, MetadataLimits())
    if target.root is not None:
        assets, problems = single_path_assets(target.root, target.is_recursive, target.specs)
    else:
        assets, problems = dict(target.assets), []
    found, more = discover(assets)
    run.set_progress(1, 3, category="analyze")
    groups, rest = group_by_stem(found, assets, target.specs)
    del found
    run.set_progress(2, 3, category="analyze")
    if metadata is not None:
        for group in groups:
            group.meta.update(metadata.for_files(group.files, group.key))
        unused = metadata.unused
        matched = len(metadata.rows) - len(unused)
        run.log_message(
            f"Metadata from {target.metadata_path}: {matched} of {len(metadata.rows)} row(s) matched"
        )
        if unused:
            shown = ", ".join(unused[:5]) + (f" and {len(unused) - 5} more" if len(unused) > 5 else "")
            run.log_message(f"{len(unused)} metadata row(s) name no file of the upload: {shown}", "WARNING")
    run.set_progress(3, 3, category="analyze")
    return groups, [*problems, *more, *rest]


def outcome(action: UploadAction, target: UploadTarget, tally: Tally, total: int) -> dict[str, Any]:
    """The summary; ``ExecutionError`` when every data unit failed, one warning when some did."""
    run, params = action.run, action.params
    error_file = None
    if tally.errors:
        error_file = Path(run.path) / ERROR_FILE_NAME
        error_file.write_text(json.dumps(tally.errors, indent=2, ensure_ascii=False), encoding="utf-8")
    units = tally.units
    summary = {
        "name": params["name"],
        "storage": target.storage["id"],
        "data_collection": target.collection["id"],
        "project": target.project["id"] if target.project else None,
        "total_files": sum(tally.files.values()),
        "uploaded": tally.files[UploadStatus.SUCCESS],
        "skipped": tally.files[UploadStatus.SKIPPED],
        "failed": tally.files[UploadStatus.FAILED],
        "bytes_uploaded": tally.bytes_sent,
        "data_units": units["created"] + units["existing"],
        "data_units_created": units["created"],
        "data_units_existing": units["existing"],
        "data_units_failed": units["failed"],
        "tasks_created": tally.tasks["created"],
        "tasks_existing": tally.tasks["existing"],
        "error_file_list": None if error_file is None else str(error_file),
    }
    counts = (
        f"{summary['uploaded']} file(s) uploaded, {summary['skipped']} already stored, "
        f"{summary['failed']} failed; "
        f"{units['created']} data unit(s) created, {units['existing']} found, {units['failed']} failed"
    )
    good = units["created"] + units["existing"]
    if total == 0 and not tally.errors:
        where = target.root or ", ".join(str(a.path) for a in target.assets.values())
        run.log_message(f"Nothing to upload: no files in {where}", "WARNING")
        return summary
    run.log_message(f"Upload finished: {counts}")
    if not good:
        first = tally.errors[0]["error"] if tally.errors else "no data unit was complete"
        raise ExecutionError(f"every data unit failed ({counts}): {first}; see {error_file}")
    if tally.errors:
        run.log_message(
            f"{units['failed']} of {total} data unit(s) and {summary['failed']} file(s) failed; "
            f"the failed files are listed in {error_file}",
            "WARNING",
        )
    return summary


def _message(error: BaseException) -> str:
    text = str(error)
    return text if isinstance(error, OSError) else f"{type(error).__name__}: {text}"
