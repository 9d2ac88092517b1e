"""Trained models in the platform: register a model file with its provenance; find a training run's model.

A registered model (``client.create_model``) carries its file (a data file) and sha256, the
configuration it was trained with, its metrics, the training run's id and the plugin that made
it (``code@version``), so any later run (test, inference, deployment) can find it by id, by
its training run, or as the newest model of a plugin (``predictor.find_model``), and check that it
got the same bytes (``predictor.fetch_model_file``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ParamsError

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient
    from synapse_sdk.plugins.categories.base import Action

Record = dict[str, Any]


def plugin_ref(action: Action) -> str | None:
    """The action's plugin as ``code@version``, or None when it runs without a plugin config."""
    config = action.plugin_config
    return f"{config.code}@{config.version}" if config is not None else None


def register_model(
    action: Action,
    path: str | Path,
    *,
    name: str,
    configuration: Mapping[str, Any],
    metrics: Mapping[str, Any],
) -> Record:
    """Register the model file at ``path`` for the action's run: its bytes (checked by sha256 once stored),
    ``configuration`` and ``metrics``, the run id and the plugin; logs a ``model`` event in the run."""
    from synapse_sdk.errors import FileChecksumMismatch
    from synapse_sdk.packaging.checksum import sha256_file

    checksum = sha256_file(path)
    data = {
        "name": name,
        "plugin": plugin_ref(action),
        "run": action.run.id,
        "configuration": dict(configuration),
        "metrics": dict(metrics),
    }
    record = action.client.create_model(data, file=path)
    if record.get("checksum") != checksum:
        raise FileChecksumMismatch(
            f"{path}: stored as sha256 {record.get('checksum')}, but the file is {checksum}; it changed "
            "while it was uploaded, register it again",
            path=str(path), expected=checksum, actual=record.get("checksum"),
        )  # fmt: skip
    action.run.log(
        "model", {"id": record["id"], "name": name, "file": record.get("file"), "checksum": checksum}
    )
    return record


def model_of_run(client: BackendClient, run: str) -> Record:
    """The newest model the training run ``run`` registered; ``ParamsError`` when it registered none."""
    rows, _ = client.list_models({"run": run}, list_all=True)
    found = max(rows, key=lambda row: int(row["id"]), default=None)
    if found is None:
        raise ParamsError(
            f"params.run: run {run} registered no model; give the id of a train run that succeeded"
        )
    return found
