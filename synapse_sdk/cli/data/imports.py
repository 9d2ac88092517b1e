"""``synapse data import coco``: a COCO file and its images into a project, with progress."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from synapse_sdk.cli.data.lookup import platform_client

app = typer.Typer(help="Import annotated data sets (images and their annotations).", no_args_is_help=True)

PHASE_LABELS = {
    "upload": "Uploading images",
    "data_units": "Data units",
    "tasks": "Tasks",
    "ground_truth": "Ground truth",
}


@app.command("coco")
def import_coco(
    images_dir: Path = typer.Argument(
        ..., metavar="IMAGES_DIR", help="The folder holding the images (file_name is relative to it)."
    ),
    annotations: Path = typer.Argument(
        ..., metavar="ANNOTATIONS", help="The COCO instances or keypoints JSON file."
    ),
    project: str = typer.Option(..., "--project", help="The project's title (created when new)."),
    collection: str = typer.Option(
        None, "--collection", help="The data collection's name (default: the project's, or its title)."
    ),
    storage: int = typer.Option(
        None, "--storage", help="The storage id for the images (default: the default one)."
    ),
    ground_truth: str = typer.Option(
        None,
        "--ground-truth",
        help="Also make a frozen version of this ground-truth dataset, split train/val.",
    ),
    val_fraction: float = typer.Option(0.2, "--val-fraction", help="The share of images in the val split."),
    seed: int = typer.Option(0, "--seed", help="Chooses the val images (the same seed, the same split)."),
    skip_missing: bool = typer.Option(
        False,
        "--skip-missing",
        help="Import the images whose file exists (default: refuse if one is missing).",
    ),
    batch_size: int = typer.Option(
        100, "--batch-size", min=1, help="Images per batch of data units and tasks."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import a COCO file: upload the images, a data unit and a task per image.

    Running it again (after a crash, or on the same files) finishes the
    import and creates no duplicate data units or tasks; tasks that exist
    are left as they are. A missing image file refuses the import before
    anything is written (each one named), unless --skip-missing. With
    --ground-truth, a frozen version of that dataset holds every imported
    image, split train/val (the same version again if nothing changed).
    """
    import time

    from synapse_sdk.backend.schemas import EventBatch
    from synapse_sdk.cli._render import make_renderer
    from synapse_sdk.clients.backend.imports import import_coco as run_import

    renderer = make_renderer(PHASE_LABELS)

    def progress(phase: str, done: int, total: int) -> None:
        if total:
            renderer.write("", EventBatch(progress={phase: (done, total, time.time())}))

    try:
        report = run_import(
            platform_client(), images_dir, annotations, project=project, collection=collection,
            storage=storage, ground_truth=ground_truth, val_fraction=val_fraction, seed=seed,
            skip_missing=skip_missing, batch_size=batch_size, progress=progress,
        )  # fmt: skip
    finally:
        renderer.close()
    for line in report.problems:
        print(f"warning: {line}", file=sys.stderr)
    print(json.dumps(report.to_json(), indent=2) if as_json else report.summary())
