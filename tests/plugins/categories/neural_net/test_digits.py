"""The digits: scikit-learn's 8x8 digits written as an ImageFolder and imported through the platform."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.categories.neural_net.digits import import_digits, write_digits
from tests.conftest import run_cli


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


def test_every_split_holds_every_class_as_8x8_grayscale_pngs(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    written = write_digits(tmp_path / "digits", per_class=10)

    assert written.counts == {"train": 70, "val": 10, "test": 20}
    for split in ("train", "val", "test"):
        assert sorted(p.name for p in (tmp_path / "digits" / split).iterdir()) == [str(d) for d in range(10)]
    path = next((tmp_path / "digits" / "test" / "7").iterdir())
    index = int(path.stem.split("-")[1])
    with Image.open(path) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "L", (8, 8))
        pixels = list(image.tobytes())
    digits = load_digits()
    assert digits.target[index] == 7
    assert pixels == [round(v * 255 / 16) for v in digits.images[index].flatten()]


def test_the_whole_set_is_split_70_10_20_the_same_way_for_one_seed(tmp_path: Path) -> None:
    first = write_digits(tmp_path / "a")
    write_digits(tmp_path / "b")
    write_digits(tmp_path / "c", seed=1)

    assert first.counts == {"train": 1259, "val": 179, "test": 359}
    assert sum(first.counts.values()) == 1797
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a").keys() != files(tmp_path / "c").keys()


def test_too_small_a_subset_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="per_class: needs at least 3"):
        write_digits(tmp_path, per_class=2)


def test_the_platforms_import_makes_a_frozen_version_split_as_the_folders(tmp_path: Path) -> None:
    client = get_backend_client()
    report = import_digits(client, tmp_path / "digits", per_class=5)

    assert report.images == 50 and report.splits == {"train": 30, "val": 10, "test": 10}
    assert client.get_ground_truth_dataset(report.ground_truth_dataset)["name"] == "digits"
    assert client.get_ground_truth_version(report.ground_truth_version)["is_frozen"]
    again = import_digits(client, tmp_path / "digits", per_class=5)
    assert again.version_reused and again.ground_truth_version == report.ground_truth_version


def test_the_cli_writes_them_and_says_how_to_import_them(tmp_path: Path, synapse_home: Path) -> None:
    written = run_cli("data", "sample", "digits", str(tmp_path / "digits"), "--per-class", "4")
    assert written.returncode == 0, written.stderr
    assert "wrote 40 digits" in written.stdout
    assert f"synapse data import imagefolder {tmp_path / 'digits'} --project digits" in written.stdout

    env = {"SYNAPSE_HOME": str(synapse_home)}
    imported = run_cli(
        "data", "import", "imagefolder", str(tmp_path / "digits"),
        "--project", "digits", "--ground-truth", "digits", env=env,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert "frozen: 20 train, 10 val, 10 test" in imported.stdout

    refused = run_cli("data", "sample", "digits", str(tmp_path / "x"), "--per-class", "2")
    assert refused.returncode == 2
    assert "--per-class" in refused.stderr
