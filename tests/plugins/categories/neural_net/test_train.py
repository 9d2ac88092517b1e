"""Training on the platform's digits, end to end: the template's train and test actions as users run them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from synapse_sdk.clients.backend import get_backend_client
from synapse_sdk.plugins.categories.neural_net.digits import import_digits
from synapse_sdk.plugins.categories.neural_net.train import TrainParams
from tests.conftest import run_cli


def run_json(plugin: Path, home: Path, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """``synapse plugin run ACTION PARAMS --debug`` in the plugin folder, one torch thread; its result."""
    env = {"SYNAPSE_HOME": str(home), "OMP_NUM_THREADS": "1"}
    result = run_cli("plugin", "run", action, json.dumps(params), "--debug", cwd=plugin, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    value: dict[str, Any] = json.loads(result.stdout)
    return value


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    """The neural_net template as ``synapse plugin create`` writes it."""
    from synapse_sdk.plugins.templates import render_plugin

    return render_plugin("digits", "neural_net", output_dir=tmp_path / "plugins")


def test_the_params_keep_the_reference_names() -> None:
    params = TrainParams.model_validate({"dataset": 3})

    assert params.model_dump() == {
        "dataset": 3, "splits": {"train": "train", "val": "val"}, "checkpoint": None, "hyperparameters": {},
        "epochs": 10, "batch_size": 32, "learning_rate": 1e-3, "name": None, "seed": 0,
    }  # fmt: skip
    assert TrainParams.model_validate({"dataset": {"version": 7}, "splits": ["train"]}).dataset.version == 7  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match='needs a "train" role'):
        TrainParams.model_validate({"dataset": 3, "splits": {"val": "val"}})


@pytest.mark.slow
def test_a_short_training_on_all_the_digits_scores_at_least_90_percent(
    plugin: Path, synapse_home: Path, tmp_path: Path
) -> None:
    report = import_digits(get_backend_client(), tmp_path / "digits")
    assert report.splits == {"train": 1259, "val": 179, "test": 359}

    trained = run_json(plugin, synapse_home, "train", {"dataset": "digits", "epochs": 3})
    tested = run_json(plugin, synapse_home, "test", {"model": trained["model"]})

    assert sum(row["support"] for row in tested["per_class"].values()) == 359
    assert tested["accuracy"] >= 0.90, tested["accuracy"]
    model = get_backend_client().get_model(trained["model"])
    assert model["configuration"]["dataset"]["images"] == {"train": 1259, "val": 179}
    assert Path(tested["confusion_matrix_png"]).is_file()
