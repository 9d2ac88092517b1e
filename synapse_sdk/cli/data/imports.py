"""``synapse data import coco|yolo|voc|imagefolder``: a dataset and its images into a project."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from synapse_sdk.cli.data.lookup import platform_client

if TYPE_CHECKING:
    from synapse_sdk.clients.backend.imports import ImportReport, ProgressCallback

app = typer.Typer(help="Import annotated data sets (images and their annotations).", no_args_is_help=True)

PHASE_LABELS = {
    "upload": "Uploading images",
    "data_units": "Data units",
    "tasks": "Tasks",
    "ground_truth": "Ground truth",
}

#: The folder formats, with what their folder holds (for ``--help``).
FOLDER_FORMATS = {
    "yolo": "a YOLO dataset (ultralytics layout): data.yaml, images/<split>/, labels/<split>/",
    "voc": "a Pascal VOC dataset: Annotations/, JPEGImages/, ImageSets/Main/<split>.txt",
    "imagefolder": "an ImageFolder dataset: <class>/<image>, or <split>/<class>/<image>",
}


#: The options every import command takes, declared once.
PROJECT = typer.Option(..., "--project", help="The project's title (created when new).")
COLLECTION = typer.Option(
    None, "--collection", help="The data collection's name (default: the project's, or its title)."
)
STORAGE = typer.Option(None, "--storage", help="The storage id for the images (default: the default one).")
SKIP_MISSING = typer.Option(
    False, "--skip-missing", help="Import the images whose file exists (default: refuse if one is missing)."
)
BATCH_SIZE = typer.Option(100, "--batch-size", min=1, help="Images per batch of data units and tasks.")
AS_JSON = typer.Option(False, "--json", help="Print the report as JSON.")


def _run(call: Callable[[ProgressCallback], ImportReport], as_json: bool) -> None:
    """Run an import with a progress display, then print its warnings and report."""
    import time

    from synapse_sdk.backend.schemas import EventBatch
    from synapse_sdk.cli._render import make_renderer

    renderer = make_renderer(PHASE_LABELS)

    def progress(phase: str, done: int, total: int) -> None:
        if total:
            renderer.write("", EventBatch(progress={phase: (done, total, time.time())}))

    try:
        report = call(progress)
    finally:
        renderer.close()
    for line in report.problems:
        print(f"warning: {line}", file=sys.stderr)
    print(json.dumps(report.to_json(), indent=2) if as_json else report.summary())


@app.command("coco")
def import_coco(
    images_dir: Path = typer.Argument(
        ..., metavar="IMAGES_DIR", help="The folder holding the images (file_name is relative to it)."
    ),
    annotations: Path = typer.Argument(
        ..., metavar="ANNOTATIONS", help="The COCO instances or keypoints JSON file."
    ),
    project: str = PROJECT,
    collection: str = COLLECTION,
    storage: int = STORAGE,
    ground_truth: str = typer.Option(
        None,
        "--ground-truth",
        help="Also make a frozen version of this ground-truth dataset, split train/val.",
    ),
    val_fraction: float = typer.Option(0.2, "--val-fraction", help="The share of images in the val split."),
    seed: int = typer.Option(0, "--seed", help="Chooses the val images (the same seed, the same split)."),
    skip_missing: bool = SKIP_MISSING,
    batch_size: int = BATCH_SIZE,
    as_json: bool = AS_JSON,
) -> None:
    """Import a COCO file: upload the images, a data unit and a task per image.

    Running it again (after a crash, or on the same files) finishes the
    import and creates no duplicate data units or tasks; tasks that exist
    are left as they are. A missing image file refuses the import before
    anything is written (each one named), unless --skip-missing. With
    --ground-truth, a frozen version of that dataset holds every imported
    image, split train/val (the same version again if nothing changed).
    """
    from synapse_sdk.clients.backend.imports import import_coco as run_import

    _run(
        lambda progress: run_import(
            platform_client(), images_dir, annotations, project=project, collection=collection,
            storage=storage, ground_truth=ground_truth, val_fraction=val_fraction, seed=seed,
            skip_missing=skip_missing, batch_size=batch_size, progress=progress,
        ),
        as_json,
    )  # fmt: skip


def _folder_command(fmt: str, holds: str) -> None:
    """Register ``synapse data import <fmt> FOLDER``: the same options as ``coco``, the folder holding all."""

    def command(
        folder: Path = typer.Argument(..., metavar="FOLDER", help=f"The dataset's folder: {holds}."),
        project: str = PROJECT,
        collection: str = COLLECTION,
        storage: int = STORAGE,
        ground_truth: str = typer.Option(
            None,
            "--ground-truth",
            help="Also make a frozen version of this ground-truth dataset, split as the folder's layout is.",
        ),
        val_fraction: float = typer.Option(
            0.2, "--val-fraction", help="The share of val images among those the layout gives no split."
        ),
        seed: int = typer.Option(
            0, "--seed", help="Chooses those val images (the same seed, the same split)."
        ),
        skip_missing: bool = SKIP_MISSING,
        batch_size: int = BATCH_SIZE,
        as_json: bool = AS_JSON,
    ) -> None:
        from synapse_sdk.clients.backend.imports import import_folder

        _run(
            lambda progress: import_folder(
                platform_client(), folder, format=fmt, project=project, collection=collection,
                storage=storage, ground_truth=ground_truth, val_fraction=val_fraction, seed=seed,
                skip_missing=skip_missing, batch_size=batch_size, progress=progress,
            ),
            as_json,
        )  # fmt: skip

    command.__doc__ = f"""Import {holds}.

    Uploads the images, a data unit and a task per image (its labels as DM
    v2). Running it again finishes an interrupted import and creates no
    duplicates; tasks that exist are left as they are. With --ground-truth,
    a frozen version of that dataset holds every imported image, in the
    split its folder gives it (train/val by --seed for images without one).
    """
    app.command(fmt)(command)


for _format, _holds in FOLDER_FORMATS.items():
    _folder_command(_format, _holds)
