"""What the pre-annotation tests build: real photos with planted problems, as data units of a collection.

``write_photos(folder)`` writes scikit-image's sample photos (astronaut, chelsea, coffee, rocket,
camera) and the planted problems: a truncated JPEG, the camera photo again as a PNG with other
bytes but the same pixels (an exact duplicate), a smaller recompressed copy of chelsea (a near
duplicate), a text file named like a JPEG, and the coins photo stored sideways with an EXIF
Orientation tag of 6. ``photo_units(client, folder)`` uploads them as a data unit each.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from synapse_sdk.clients.backend import BackendClient

#: File name -> the ``skimage.data`` photo it is.
CLEAN = {
    "astronaut.jpg": "astronaut",
    "chelsea.jpg": "chelsea",
    "coffee.jpg": "coffee",
    "rocket.jpg": "rocket",
    "camera.png": "camera",
}
#: File name -> the reason pre_annotation drops it for.
PLANTED = {
    "camera-again.png": "duplicate",
    "chelsea-small.jpg": "near_duplicate",
    "notes.jpg": "unreadable",
    "truncated.jpg": "unreadable",
}
#: The sideways photo (kept, and stored again upright).
ROTATED = "coins-sideways.jpg"
SPECS = [{"name": "image", "file_type": "image", "is_required": True, "is_primary": True}]
PRE_ANNOTATION_CONFIG = """\
code: {code}
name: Pre-annotation test plugin
version: 1.0.0
category: pre_annotation
actions:
  pre_annotation:
    entrypoint: plugin.pre_annotation.PreAnnotation
    method: job
  to_task:
    entrypoint: plugin.to_task.ToTask
    method: job
"""
PLAIN_PRE_ANNOTATION = """\
from synapse_sdk.plugins.categories.pre_annotation import PreAnnotationAction


class PreAnnotation(PreAnnotationAction):
    pass
"""
PLAIN_TO_TASK = """\
from synapse_sdk.plugins.categories.pre_annotation import ToTaskAction


class ToTask(ToTaskAction):
    pass
"""


def write_photos(folder: Path) -> Path:
    """The photos and the planted problems in ``folder``."""
    import skimage.data
    from PIL import Image, PngImagePlugin

    folder.mkdir(parents=True, exist_ok=True)
    for name, photo in CLEAN.items():
        Image.fromarray(getattr(skimage.data, photo)()).save(folder / name, quality=90)
    whole = (folder / "coffee.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "the same picture, saved again")
    Image.open(folder / "camera.png").save(folder / "camera-again.png", pnginfo=info)
    cat = Image.open(folder / "chelsea.jpg")
    cat.resize((cat.width // 2, cat.height // 2)).save(folder / "chelsea-small.jpg", quality=60)
    (folder / "notes.jpg").write_text("not a picture\n")
    coins = Image.fromarray(skimage.data.coins())  # 384 x 303: stored turned, EXIF 6 makes it upright
    exif = Image.Exif()
    exif[0x0112] = 6
    coins.transpose(Image.Transpose.ROTATE_90).save(folder / ROTATED, quality=90, exif=exif)
    return folder


def photo_units(
    client: BackendClient, folder: Path, name: str = "photos"
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A collection with a data unit per file of ``folder`` (its name in ``meta.file_name``), the
    clean photos first; the collection and the units by file name."""
    collection = client.create_data_collection({"name": name, "file_specifications": SPECS})
    rows = []
    for path in sorted(folder.iterdir(), key=lambda p: (p.name not in CLEAN, p.name)):
        stored = client.create_data_file(path)
        files = {"image": {"data_file": stored["id"], "path": stored["path"], "checksum": stored["checksum"]}}
        rows.append({"data_collection": collection["id"], "files": files, "meta": {"file_name": path.name}})
    units = client.create_data_units(rows)
    return collection, {unit["meta"]["file_name"]: unit for unit in units}


def units_by_name(client: BackendClient, collection: int) -> dict[str, dict[str, Any]]:
    """Every data unit of a collection, by its ``meta.file_name``."""
    rows, _ = client.list_data_units({"data_collection": collection}, list_all=True)
    return {unit["meta"]["file_name"]: unit for unit in rows}


def tasks_of(client: BackendClient, project: int) -> list[dict[str, Any]]:
    """Every task of a project."""
    return list(client.list_tasks({"project": project}, list_all=True)[0])


@pytest.fixture(scope="session")
def photo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The photos and planted problems, written once per session."""
    return write_photos(tmp_path_factory.mktemp("pre-annotation") / "photos")


@pytest.fixture
def pre_plugin(make_plugin: Callable[..., Path]) -> Callable[..., Path]:
    """``pre_plugin(pre_annotation=source, to_task=source)``: a plugin folder with both actions."""

    def make(
        pre_annotation: str = PLAIN_PRE_ANNOTATION, to_task: str = PLAIN_TO_TASK, code: str = "pre-test"
    ) -> Path:
        modules = {"pre_annotation.py": pre_annotation, "to_task.py": to_task}
        return make_plugin(PRE_ANNOTATION_CONFIG.format(code=code), modules, name=code)

    return make
