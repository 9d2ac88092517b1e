"""Loading a plugin checks config and every entrypoint, reporting all problems at once."""

from __future__ import annotations

import pytest

from synapse_sdk.errors import ConfigError, PluginNotFound
from synapse_sdk.plugins.categories.neural_net import TrainAction
from synapse_sdk.plugins.loader import load_plugin

CONFIG = """\
code: broken
name: Broken
version: 0.1.0
category: neural_net
actions:
  train:
    entrypoint: plugin.train.Train
  missing_module:
    entrypoint: plugin.nowhere.Thing
  missing_class:
    entrypoint: plugin.train.Nope
  not_action:
    entrypoint: plugin.train.NotAnAction
"""

TRAIN = """\
from synapse_sdk.plugins.categories.neural_net import TrainAction

class Train(TrainAction):
    def start(self):
        return 1

class NotAnAction:
    pass
"""


def test_a_valid_plugin_loads_its_action_classes(make_plugin):
    folder = make_plugin(CONFIG.split("  missing_module")[0], {"train.py": TRAIN})
    loaded = load_plugin(folder)
    assert issubclass(loaded.actions["train"], TrainAction)
    assert loaded.config.code == "broken"


def test_all_entrypoint_problems_are_reported_together(make_plugin):
    folder = make_plugin(CONFIG, {"train.py": TRAIN})
    with pytest.raises(ConfigError) as info:
        load_plugin(folder)
    problems = info.value.problems
    assert len(problems) == 3
    assert "actions.missing_module.entrypoint: cannot import 'plugin.nowhere.Thing'" in problems[0]
    assert "module 'plugin.train' has no class 'Nope'" in problems[1]
    assert "'NotAnAction' is not an Action" in problems[2]


def test_an_entrypoint_that_raises_on_import(make_plugin):
    folder = make_plugin(CONFIG.split("  missing_module")[0], {"train.py": "raise RuntimeError('boom')"})
    with pytest.raises(ConfigError, match="importing 'plugin.train.Train' failed: RuntimeError: boom"):
        load_plugin(folder)


def test_restapi_is_refused_for_categories_that_cannot_serve(make_plugin):
    config = """\
    code: exp
    name: Exp
    version: 1.0.0
    category: export
    actions:
      export:
        entrypoint: plugin.exp.Exp
        method: restapi
    """
    source = """\
    from synapse_sdk.plugins.categories.base import Action

    class Exp(Action):
        def start(self):
            return None
    """
    with pytest.raises(ConfigError, match="export plugins cannot use 'restapi'; use one of job, task"):
        load_plugin(make_plugin(config, {"exp.py": source}))


def test_two_plugins_with_the_same_package_name_do_not_clash(make_plugin):
    source = """\
    from synapse_sdk.plugins.categories.neural_net import TrainAction

    class Train(TrainAction):
        def start(self):
            return {VALUE}
    """
    a = make_plugin(CONFIG.split("  missing_module")[0], {"train.py": source.replace("{VALUE}", "'a'")}, "a")
    b = make_plugin(CONFIG.split("  missing_module")[0], {"train.py": source.replace("{VALUE}", "'b'")}, "b")
    assert load_plugin(a).actions["train"]().start() == "a"
    assert load_plugin(b).actions["train"]().start() == "b"


def test_a_folder_without_config(tmp_path):
    with pytest.raises(PluginNotFound, match="no config.yaml here"):
        load_plugin(tmp_path)
