"""Fixtures of the export tests: the photo platform (see ``export_platform.py``) and inline export plugins."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from synapse_sdk.clients.backend import get_backend_client
from tests.plugins.categories.export_platform import EXPORT_CONFIG, PLAIN_EXPORTER, Platform, build_platform


@pytest.fixture(scope="session")
def photo_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The four photos and their COCO file, written once per session."""
    from tests.clients.samples import write_samples

    return write_samples(tmp_path_factory.mktemp("photos"))


@pytest.fixture
def photo_platform(photo_set: tuple[Path, Path], tmp_path: Path) -> Platform:
    """The photos imported into the test's embedded platform."""
    images = tmp_path / "photos"
    shutil.copytree(photo_set[0], images)
    return build_platform(get_backend_client(), images, photo_set[1])


@pytest.fixture
def export_plugin(make_plugin: Callable[..., Path]) -> Callable[..., Path]:
    """``export_plugin(source, code="export-test")``: a plugin folder whose export action is ``source``."""

    def make(source: str = PLAIN_EXPORTER, code: str = "export-test") -> Path:
        return make_plugin(EXPORT_CONFIG.format(code=code), {"export.py": source}, name=code)

    return make
