"""The spec's programmatic use, ``ActionClass(params=..., plugin_config=..., envs=...).run_action()``,
from any folder: a config path, a plugin folder, or a mapping / ``PluginConfig`` plus ``plugin_path``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from synapse_sdk.backend.schemas import RunStatus
from synapse_sdk.errors import ConfigError, ParamsError
from synapse_sdk.plugins.config import PluginConfig
from synapse_sdk.plugins.utils import get_action_class

PARAMS = {"dataset_path": "/data/images", "epochs": 2}
RESULT = {"status": "success", "final_loss": 0.7071}


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work from a folder that is not the plugin's."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def _sources(demo_plugin: Path) -> dict[str, dict]:
    data = yaml.safe_load((demo_plugin / "config.yaml").read_text())
    return {
        "config-path": {"plugin_config": str(demo_plugin / "config.yaml")},
        "folder": {"plugin_config": demo_plugin},
        "mapping-and-path": {"plugin_config": data, "plugin_path": demo_plugin},
        "config-and-path": {"plugin_config": PluginConfig.load(demo_plugin), "plugin_path": str(demo_plugin)},
    }


@pytest.mark.parametrize("source", ["config-path", "folder", "mapping-and-path", "config-and-path"])
def test_the_spec_example_runs_from_another_folder(demo_plugin, elsewhere, store, source):
    ActionClass = get_action_class("neural_net", "train")
    action = ActionClass(params=PARAMS, envs={"MODE": "fast"}, **_sources(demo_plugin)[source])
    assert type(action).__module__ == "plugin.train"
    assert action.run_action() == RESULT
    record = store.get_run(action.run.id)
    assert record.status is RunStatus.SUCCEEDED
    assert (record.plugin, record.extra["envs"]) == ("demo-train@1.0.0", {"MODE": "fast"})


@pytest.mark.parametrize("kind", ["mapping", "config"])
def test_a_config_without_its_folder_says_where_the_code_must_be(demo_plugin, elsewhere, store, kind):
    data = yaml.safe_load((demo_plugin / "config.yaml").read_text())
    config = data if kind == "mapping" else PluginConfig.from_dict(data)
    ActionClass = get_action_class("neural_net", "train")
    message = (
        "plugin_config: 'demo-train' names 'plugin.train.TrainAction' for action 'train', but not where "
        "the plugin's code is; pass plugin_path='path/to/demo-train' (the folder holding plugin/), "
        "or plugin_config as the path of its config.yaml"
    )
    with pytest.raises(ConfigError, match=re.escape(message)):
        ActionClass(params=PARAMS, plugin_config=config)
    assert store.list_runs() == []


def test_a_plugin_path_that_does_not_exist_is_named(demo_plugin, elsewhere):
    ActionClass = get_action_class("neural_net", "train")
    with pytest.raises(ConfigError, match=r"plugin_path '.*/nowhere': no such folder"):
        ActionClass(params=PARAMS, plugin_config=PluginConfig.load(demo_plugin), plugin_path="nowhere")


def test_a_missing_module_names_the_plugin_folder(demo_plugin, elsewhere):
    (demo_plugin / "plugin" / "train.py").unlink()
    ActionClass = get_action_class("neural_net", "train")
    with pytest.raises(ConfigError, match=r"config.yaml: actions.train.entrypoint: cannot import 'plugin"):
        ActionClass(params=PARAMS, plugin_config=demo_plugin)


def test_constructing_an_action_validates_params_and_touches_nothing(tmp_path, monkeypatch):
    from synapse_sdk.plugins.categories.neural_net import TrainAction

    home = tmp_path / "untouched-home"
    monkeypatch.setenv("SYNAPSE_HOME", str(home))
    action = TrainAction(params={"epochs": 1})
    assert (action.params["epochs"], action.params["batch_size"]) == (1, 32)  # validated, defaults filled
    with pytest.raises(ParamsError, match="params.epochs"):
        TrainAction(params={"epochs": 0})
    assert not home.exists()  # no store opened, no run made, no folder created
    bare = TrainAction.bare(envs={"A": "1"}, plugin_path=tmp_path)
    assert (bare.params, bare.get_runtime_env()["env_vars"]) == ({}, {"A": "1"})
    assert not home.exists()
