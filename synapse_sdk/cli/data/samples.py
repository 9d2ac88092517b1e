"""``synapse data sample digits FOLDER``: write a real labelled dataset to import, with no download."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Write sample datasets that ship inside installed packages.", no_args_is_help=True)


@app.command("digits")
def digits(
    folder: Path = typer.Argument(..., metavar="FOLDER", help="Where to write <split>/<class>/<image>.png."),
    per_class: int = typer.Option(
        None, "--per-class", min=3, help="Keep the first N images of each class (default: all 1,797 images)."
    ),
    seed: int = typer.Option(
        0, "--seed", help="Chooses each class's val and test images (the same seed, the same split)."
    ),
) -> None:
    """Write scikit-learn's handwritten digits (8x8 PNGs, classes 0-9) as an ImageFolder dataset.

    Each class is split 70/10/20 into train/val/test. Import it with
    `synapse data import imagefolder FOLDER --project digits --ground-truth digits`.
    Needs scikit-learn (`pip install 'synapse-plugin-sdk[neural_net]'`).
    """
    from synapse_sdk.errors import UsageError

    try:
        from synapse_sdk.plugins.categories.neural_net.digits import write_digits

        written = write_digits(folder, per_class=per_class, seed=seed)
    except ModuleNotFoundError as exc:
        raise UsageError(
            f"synapse data sample digits: needs {exc.name}; install it with "
            "pip install 'synapse-plugin-sdk[neural_net]'"
        ) from None
    counts = ", ".join(f"{count} {split}" for split, count in written.counts.items())
    typer.echo(f"wrote {sum(written.counts.values())} digits to {written.path} ({counts})")
    typer.echo(
        f"import them: synapse data import imagefolder {written.path} --project digits --ground-truth digits"
    )
