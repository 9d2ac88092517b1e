"""A real labelled image dataset with no download: scikit-learn's 1,797 handwritten digits (8x8).

``write_digits`` writes them as PNG files in an ImageFolder layout, ``<split>/<class>/<name>.png``
(splits train/val/test chosen per class by a fixed seed), which the platform's own import reads:
``synapse data sample digits FOLDER`` then ``synapse data import imagefolder FOLDER --project
digits --ground-truth digits``. ``import_digits`` does both from Python.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient
    from synapse_sdk.clients.backend.imports import ImportReport

#: The share of each class's images in the val and the test split; the rest is train.
VAL_FRACTION = 0.1
TEST_FRACTION = 0.2


@dataclass(frozen=True)
class DigitsFolder:
    """What ``write_digits`` wrote: the folder and how many images each split holds."""

    path: Path
    counts: dict[str, int]


def write_digits(
    folder: str | Path,
    *,
    per_class: int | None = None,
    seed: int = 0,
    val_fraction: float = VAL_FRACTION,
    test_fraction: float = TEST_FRACTION,
) -> DigitsFolder:
    """Write the digits as 8x8 grayscale PNGs (bright ink on black) under ``folder``.

    Class folders are named ``0`` to ``9``; each image is ``digit-<index>.png``, its index in
    scikit-learn's array. ``per_class`` keeps the first N images of each class (a tiny subset for
    tests). Each class is split on its own, so every split holds every class; the same ``seed``
    gives the same files. Writing again over the same folder rewrites the same files.
    """
    from PIL import Image
    from sklearn.datasets import load_digits  # type: ignore[import-untyped]

    if per_class is not None and per_class < 3:
        raise ValueError(f"per_class: needs at least 3 images per class (one per split), got {per_class}")
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(
            f"val_fraction + test_fraction: each in (0, 1) and together below 1, got {val_fraction} and "
            f"{test_fraction}"
        )
    digits = load_digits()
    root = Path(folder)
    by_class: dict[int, list[int]] = {}
    for index, target in enumerate(digits.target.tolist()):
        by_class.setdefault(int(target), []).append(index)
    rng = random.Random(seed)
    counts = {"train": 0, "val": 0, "test": 0}
    for label, indices in sorted(by_class.items()):
        chosen = indices[:per_class] if per_class else list(indices)
        rng.shuffle(chosen)
        n_val = max(1, round(len(chosen) * val_fraction))
        n_test = max(1, round(len(chosen) * test_fraction))
        splits = {
            "val": chosen[:n_val],
            "test": chosen[n_val : n_val + n_test],
            "train": chosen[n_val + n_test :],
        }
        for split, members in splits.items():
            target_dir = root / split / str(label)
            target_dir.mkdir(parents=True, exist_ok=True)
            for index in members:
                pixels = (digits.images[index] * (255 / 16)).round().astype("uint8")
                Image.fromarray(pixels, mode="L").save(target_dir / f"digit-{index:04d}.png")
            counts[split] += len(members)
    return DigitsFolder(root, counts)


def import_digits(
    client: BackendClient,
    folder: str | Path,
    *,
    project: str = "digits",
    ground_truth: str = "digits",
    per_class: int | None = None,
    seed: int = 0,
) -> ImportReport:
    """Write the digits into ``folder`` and import them through the platform's ImageFolder import:
    a project of one task per image and a frozen version of the ground-truth dataset ``ground_truth``
    split as the folders are. Importing again reuses everything (the same version)."""
    from synapse_sdk.clients.backend.imports import import_folder

    written = write_digits(folder, per_class=per_class, seed=seed)
    return import_folder(
        client, written.path, format="imagefolder", project=project, ground_truth=ground_truth
    )
