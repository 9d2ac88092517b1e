"""The registered model a served ``neural_net`` action predicts with: found, fetched once, loaded, fed.

A model is a record of the platform's ``models`` (what ``train`` registers, see ``models.py``).
:class:`ServedModels` finds one (an id, else the newest model of the plugin), fetches its file
(checked against its sha256) into a temporary folder, hands that path to the plugin's
``load_predictor(path)`` and keeps the ``Predictor`` it returns for every later request.
Images come as base64 PNG/JPEG files or as the primary file of a platform data unit, decoded
with Pillow.
"""

from __future__ import annotations

import base64
import binascii
import io
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from synapse_sdk.errors import ParamsError, ResourceNotFound

if TYPE_CHECKING:
    from PIL.Image import Image

    from synapse_sdk.clients.backend import BackendClient

#: The env var (``--env MODEL_ID=3``) naming the model a server loads in ``setup()``.
MODEL_ENV = "MODEL_ID"


class Predictor(Protocol):
    """What a plugin's ``load_predictor(path)`` returns: the class names and a batch predict."""

    classes: Sequence[str]

    def predict(self, images: list[Image]) -> list[dict[str, Any]]:
        """One ``{"class": name, "scores": {class: probability}}`` per image, in order."""


def newest_model(client: BackendClient, plugin_code: str | None) -> dict[str, Any] | None:
    """The most recently registered model of plugin ``plugin_code`` (any version), or None."""
    rows, _ = client.list_models({}, list_all=True)
    mine = [m for m in rows if plugin_code is None or str(m.get("plugin") or "").split("@")[0] == plugin_code]
    return max(mine, key=lambda m: int(m["id"]), default=None)


def find_model(client: BackendClient, model_id: int | None, plugin_code: str | None) -> dict[str, Any]:
    """Model ``model_id``, else the newest of the plugin; ``ParamsError`` saying how to get one."""
    if model_id is not None:
        try:
            return client.get_model(model_id)
        except ResourceNotFound:
            raise ParamsError(
                f"params.model: no registered model {model_id}; a train run registers one"
            ) from None
    found = newest_model(client, plugin_code)
    if found is None:
        raise ParamsError(
            f"params.model: plugin {plugin_code!r} has registered no model yet; run its train action "
            "first, or name a model with params.model (a server: --env MODEL_ID=<id>)"
        )
    return found


def fetch_model_file(client: BackendClient, model: dict[str, Any], folder: str | Path) -> Path:
    """The model's file copied into ``folder`` (made if missing) under its stored name, checked by sha256."""
    from synapse_sdk.errors import FileChecksumMismatch
    from synapse_sdk.packaging.checksum import sha256_file

    if not model.get("file"):
        raise ParamsError(f"params.model: model {model['id']} ({model.get('name')!r}) has no file to load")
    record = client.get_data_file(int(model["file"]))
    expected = str(model.get("checksum") or record["checksum"])
    target = Path(folder) / Path(str(record.get("path") or "model.bin")).name
    target.parent.mkdir(parents=True, exist_ok=True)
    with client.open_data_file(int(model["file"])) as source, open(target, "wb") as out:
        shutil.copyfileobj(source, out)
    actual = sha256_file(target)
    if actual != expected:
        raise FileChecksumMismatch(
            f"model {model['id']}: its file hashes to {actual}, not the registered {expected}; the stored "
            "file is damaged, train and register the model again",
            path=str(target), expected=expected, actual=actual,
        )  # fmt: skip
    return target


def decode_image(encoded: str, where: str = "params.image") -> Image:
    """A base64 PNG/JPEG file as a Pillow image; ``ParamsError`` naming ``where`` when it is not one."""
    from PIL import Image, UnidentifiedImageError

    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ParamsError(f"{where}: not base64; send the image file's bytes base64-encoded") from None
    try:
        image = Image.open(io.BytesIO(raw))
        image.load()  # decode now: a broken file is this request's 422, not an error inside predict
    except (UnidentifiedImageError, OSError):
        raise ParamsError(f"{where}: not an image file Pillow can read; send a PNG or JPEG") from None
    return image


def open_image(client: BackendClient, data_file: int) -> Image:
    """A platform data file's image, decoded."""
    from PIL import Image

    with client.open_data_file(data_file) as stream, Image.open(stream) as image:
        image.load()
        return image.copy()


def data_unit_image(client: BackendClient, data_unit: int) -> Image:
    """The primary image of data unit ``data_unit`` (its collection's primary file, else its first)."""
    try:
        unit = client.get_data_unit(data_unit)
    except ResourceNotFound:
        raise ParamsError(f"params.data_unit: no data unit {data_unit}") from None
    files = unit.get("files") or {}
    specs = client.get_data_collection(unit["data_collection"]).get("file_specifications") or []
    name = next(
        (s["name"] for s in specs if s.get("is_primary") and s["name"] in files), next(iter(files), None)
    )
    entry = files.get(name) if name is not None else None
    if not entry or not entry.get("data_file"):
        raise ParamsError(f"params.data_unit: data unit {data_unit} has no file to predict on")
    return open_image(client, int(entry["data_file"]))


class ServedModels:
    """Predictors by model id, each loaded once (``loader`` is the plugin's ``load_predictor``)."""

    def __init__(
        self, client: BackendClient, plugin_code: str | None, loader: Callable[[Path], Predictor]
    ) -> None:
        self.client = client
        self.plugin_code = plugin_code
        self.loader = loader
        self.default: int | None = None
        self._loaded: dict[int, tuple[dict[str, Any], Predictor]] = {}
        self._lock = threading.Lock()

    def get(self, model_id: int | None = None) -> tuple[dict[str, Any], Predictor]:
        """The record and predictor of ``model_id`` (default: the server's model, else the newest)."""
        import tempfile

        wanted = model_id if model_id is not None else self.default
        if wanted is not None and wanted in self._loaded:
            return self._loaded[wanted]
        with self._lock:
            record = find_model(self.client, wanted, self.plugin_code)
            if record["id"] not in self._loaded:
                with tempfile.TemporaryDirectory(prefix="synapse-model-") as folder:
                    self._loaded[record["id"]] = (
                        record,
                        self.loader(fetch_model_file(self.client, record, folder)),
                    )
            if model_id is None and self.default is None:  # the server's model: the newest, kept
                self.default = record["id"]
            return self._loaded[record["id"]]


def served_models(
    client: BackendClient, plugin_code: str | None, loader: Callable[[Path], Predictor],
    model_id: int | str | None = None,
) -> tuple[ServedModels, dict[str, Any] | None]:  # fmt: skip
    """Predictors of the plugin's models with ``model_id`` loaded (default: the plugin's newest, when
    it has registered one); the record loaded, or None."""
    models = ServedModels(client, plugin_code, loader)
    if model_id in (None, ""):
        try:
            record, _ = models.get()
        except ParamsError:  # nothing registered yet: the first request that needs a model says so
            return models, None
        return models, record
    record, _ = models.get(int(model_id))
    models.default = record["id"]
    return models, record
