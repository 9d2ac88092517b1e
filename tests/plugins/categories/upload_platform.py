"""What the upload tests build: a data collection of image + label pairs, and folders of such files.

``write_pairs(folder, count)`` writes ``image/<stem>.png`` (a real, tiny PNG) and
``label/<stem>.txt`` per data unit; ``pairs_collection(client)`` makes the collection they fit
(``image`` required, ``.png``/``.jpg``; ``label`` optional, ``.txt``). ``upload_plugin`` writes a
plugin folder whose ``upload`` action is the given uploader source.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from synapse_sdk.clients.backend import BackendClient

UPLOAD_CONFIG = """\
code: {code}
name: Upload test plugin
version: 1.0.0
category: upload
actions:
  upload:
    entrypoint: plugin.upload.Uploader
    method: job
"""
PLAIN_UPLOADER = "from synapse_sdk.plugins.categories.upload import BaseUploader as Uploader\n"
SPECS = [
    {"name": "image", "file_type": "image", "is_required": True, "extensions": [".png", ".jpg"]},
    {"name": "label", "file_type": "text", "extensions": [".txt"]},
]


def png(seed: int, size: tuple[int, int] = (8, 6)) -> bytes:
    """A tiny real PNG whose pixels depend on ``seed`` (so every file has its own bytes)."""
    from PIL import Image

    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def write_pairs(folder: Path, count: int, *, start: int = 0, sub: str = "") -> list[str]:
    """``image/<sub>/pNNN.png`` and ``label/<sub>/pNNN.txt`` for ``count`` units; their stems."""
    stems = []
    for number in range(start, start + count):
        stem = f"p{number:03d}"
        for spec, data in (("image", png(number)), ("label", f"label of {stem}\n".encode())):
            target = folder / spec / sub / f"{stem}{'.png' if spec == 'image' else '.txt'}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        stems.append(f"{sub}/{stem}" if sub else stem)
    return stems


def pairs_collection(client: BackendClient, name: str = "pairs") -> dict[str, Any]:
    """The image + label data collection."""
    return client.create_data_collection({"name": name, "file_specifications": SPECS})


def units_of(client: BackendClient, collection: int) -> list[dict[str, Any]]:
    """Every data unit of a collection."""
    return list(client.list_data_units({"data_collection": collection}, list_all=True)[0])


def upload_errors(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries of a finished upload's ``upload_errors.json``."""
    import json

    return json.loads(Path(result["error_file_list"]).read_text()) if result["error_file_list"] else []


@pytest.fixture
def upload_plugin(make_plugin: Callable[..., Path]) -> Callable[..., Path]:
    """``upload_plugin(source, code="upload-test")``: a plugin folder whose upload action is ``source``."""

    def make(source: str = PLAIN_UPLOADER, code: str = "upload-test") -> Path:
        return make_plugin(UPLOAD_CONFIG.format(code=code), {"upload.py": source}, name=code)

    return make
