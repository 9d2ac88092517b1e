"""The photos the dataset-format tests export, written once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.formats.exports import write_photos


@pytest.fixture(scope="session")
def photos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """scikit-image's four photos as JPEG files, and their hand-made COCO file."""
    return write_photos(tmp_path_factory.mktemp("photos"))
