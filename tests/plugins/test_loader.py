"""Loading a plugin checks config and every entrypoint, reporting all problems at once."""

from __future__ import annotations

import sys

import pytest

from synapse_sdk.errors import ConfigError, PluginNotFound
from synapse_sdk.plugins.categories.neural_net import TrainAction
from synapse_sdk.plugins.config import PluginConfig
from synapse_sdk.plugins.loader import check_plugin, load_action_class, load_plugin

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
    from synapse_sdk.plugins.categories.export import ExportAction

    class Exp(ExportAction):
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


def one_action(category: str, name: str, entrypoint: str, method: str = "job") -> str:
    """A config.yaml with a single action."""
    return (
        f"code: one\nname: One\nversion: 1.0.0\ncategory: {category}\n"
        f"actions:\n  {name}:\n    entrypoint: {entrypoint}\n    method: {method}\n"
    )


WRONG_BASES = """\
from synapse_sdk.plugins.categories.base import Action
from synapse_sdk.plugins.categories.export import BaseExporter
from synapse_sdk.plugins.categories.upload import UploadAction


class Upload(UploadAction):
    def start(self):
        return None


class Plain(Action):
    def start(self):
        return None


class Exporter(BaseExporter):
    pass
"""


@pytest.mark.parametrize(
    ("entrypoint", "kind"),
    [
        ("plugin.wrong.Upload", "an UploadAction (synapse_sdk.plugins.categories.upload.UploadAction)"),
        ("plugin.wrong.Plain", "a plain Action (synapse_sdk.plugins.categories.base.Action)"),
        ("plugin.wrong.Exporter", "an ExportAction (synapse_sdk.plugins.categories.export.ExportAction)"),
    ],
    ids=["other-category-base", "plain-action", "exporter"],
)
def test_a_declared_action_must_subclass_its_category_base(make_plugin, entrypoint, kind):
    folder = make_plugin(one_action("neural_net", "train", entrypoint), {"wrong.py": WRONG_BASES})
    with pytest.raises(ConfigError) as info:
        load_plugin(folder)
    assert info.value.problems == [
        f"{folder / 'config.yaml'}: actions.train.entrypoint: {entrypoint} is {kind}, "
        "not a neural_net train action; subclass synapse_sdk.plugins.categories.neural_net.TrainAction"
    ]


def test_load_action_class_applies_the_same_check(make_plugin):
    from synapse_sdk.plugins.config import PluginConfig
    from synapse_sdk.plugins.loader import load_action_class

    folder = make_plugin(one_action("export", "export", "plugin.wrong.Upload"), {"wrong.py": WRONG_BASES})
    with pytest.raises(ConfigError, match="subclass synapse_sdk.plugins.categories.export.ExportAction$"):
        load_action_class(folder, PluginConfig.load(folder), "export")


def test_an_exporter_is_checked_as_the_action_it_resolves_to(make_plugin):
    from synapse_sdk.plugins.categories.export import BaseExporter, ExportAction

    loaded = load_plugin(
        make_plugin(one_action("export", "export", "plugin.wrong.Exporter"), {"wrong.py": WRONG_BASES})
    )
    cls = loaded.actions["export"]
    assert issubclass(cls, ExportAction)
    assert issubclass(cls.exporter_class, BaseExporter)


def test_an_unknown_category_base_is_named_by_its_own_path(make_plugin):
    source = """\
    from synapse_sdk.plugins.categories.base import Action

    class DedupeAction(Action):
        category = "dedupe"
        name = "dedupe"
        is_category_base = True

    class Dedupe(DedupeAction):
        def start(self):
            return None
    """
    folder = make_plugin(
        one_action("data_validation", "validation", "plugin.dedupe.Dedupe"), {"dedupe.py": source}
    )
    with pytest.raises(ConfigError) as info:
        load_plugin(folder)
    assert (
        "plugin.dedupe.Dedupe is a DedupeAction (plugin.dedupe.DedupeAction), not a data_validation "
        in str(info.value)
    )
    assert str(info.value).endswith(
        "subclass synapse_sdk.plugins.categories.data_validation.ValidationAction"
    )


@pytest.mark.parametrize(
    "entrypoint", ["plugin.wrong.Plain", "plugin.wrong.Upload"], ids=["plain", "other-base"]
)
def test_a_custom_action_name_may_be_any_action(make_plugin, entrypoint):
    folder = make_plugin(
        one_action("neural_net", "preprocess", entrypoint, "task"), {"wrong.py": WRONG_BASES}
    )
    loaded = load_plugin(folder)
    assert loaded.actions["preprocess"].__qualname__ == entrypoint.rpartition(".")[2]


def test_a_non_action_names_the_base_it_should_subclass(make_plugin):
    folder = make_plugin(
        one_action("upload", "upload", "plugin.wrong.Nothing"), {"wrong.py": "Nothing = 3\n"}
    )
    with pytest.raises(
        ConfigError, match="is not an Action; subclass synapse_sdk.plugins.categories.upload.UploadAction"
    ):
        load_plugin(folder)


CONFIG_AND_IMPORT_PROBLEMS = """\
code: mixed
name: Mixed
version: 0.1.0
category: neural_net
actions:
  train:
    entrypoint: plugin.train.Train
    method: jobs
  inference:
    entrypoint: plugin.nowhere.Infer
    method: restapi
  test:
    entrypoint: not-a-path
"""


def test_check_reports_config_and_entrypoint_problems_together(make_plugin):
    folder = make_plugin(CONFIG_AND_IMPORT_PROBLEMS, {"train.py": TRAIN})
    check = check_plugin(folder)
    file = folder / "config.yaml"
    assert check.config is None
    assert not check.is_ok
    assert check.problems == [
        f"{file}: actions.train.method: expected one of job, task, restapi, got 'jobs' (did you mean 'job'?)",
        f"{file}: actions.test.entrypoint: expected a dotted path to a class like "
        "'plugin.train.TrainAction', got 'not-a-path'",
        f"{file}: actions.inference.entrypoint: cannot import 'plugin.nowhere.Infer': "
        "No module named 'plugin.nowhere'; check the module path and that the file exists "
        "in the plugin folder",
    ]
    assert list(check.actions) == ["train"]  # its own entrypoint was fine: it was imported and checked
    with pytest.raises(ConfigError) as info:
        load_plugin(folder)
    assert info.value.problems == check.problems


def test_check_still_imports_entrypoints_when_the_category_is_wrong(make_plugin):
    config = one_action("neural_nets", "train", "plugin.nowhere.Train")
    problems = check_plugin(make_plugin(config)).problems
    assert len(problems) == 2
    assert "category: expected one of neural_net, " in problems[0]
    assert "actions.train.entrypoint: cannot import 'plugin.nowhere.Train'" in problems[1]


def test_check_of_malformed_yaml_is_one_problem(make_plugin):
    check = check_plugin(make_plugin("code: [unclosed\n"))
    assert len(check.problems) == 1
    assert "invalid YAML" in check.problems[0]


def test_check_of_a_valid_plugin(make_plugin):
    check = check_plugin(make_plugin(CONFIG.split("  missing_module")[0], {"train.py": TRAIN}))
    assert check.is_ok
    assert check.config is not None and check.config.code == "broken"
    assert issubclass(check.actions["train"], TrainAction)


# -- plugin code that misbehaves: one problem line, never an escape (issue 10, item 7) ---------

MISBEHAVING = {
    "exits": (
        "import sys\nsys.exit(3)\n",
        "importing 'plugin.train.Train' called sys.exit(3); plugin code must not exit",
    ),
    "interrupts": ("raise KeyboardInterrupt\n", "importing 'plugin.train.Train' raised KeyboardInterrupt"),
    "recurses": ("def f():\n    return f()\nf()\n", "importing 'plugin.train.Train' failed: RecursionError"),
    "multi-line-error": ("raise ValueError('first\\nsecond')\n", "failed: ValueError: first second"),
}


@pytest.mark.parametrize(("source", "message"), list(MISBEHAVING.values()), ids=list(MISBEHAVING))
def test_a_module_misbehaving_on_import_is_one_problem(make_plugin, source, message):
    folder = make_plugin(one_action("neural_net", "train", "plugin.train.Train"), {"train.py": source})
    (problem,) = check_plugin(folder).problems
    assert message in problem and "\n" not in problem
    with pytest.raises(ConfigError, match="actions.train.entrypoint"):
        load_plugin(folder)


CONTRACT = """\
from synapse_sdk.plugins.categories.neural_net import TrainAction

class NoStart(TrainAction):
    pass

class BadModel(TrainAction):
    params_model = 42

    def start(self):
        return None

class BadCategories(TrainAction):
    progress_categories = ["train"]

    def start(self):
        return None

class Explodes(TrainAction):
    def __init__(self, *args, **kwargs):
        raise RuntimeError("boom")

    def start(self):
        return None

class NeedsParams(TrainAction):
    from pydantic import BaseModel as _Base

    class Params(_Base):
        dataset: str

    params_model = Params

    def start(self):
        return None

NOT_A_CLASS = 42
"""


@pytest.mark.parametrize(
    ("entrypoint", "message"),
    [
        ("plugin.contract.NoStart", "NoStart does not implement start(); add 'def start(self):'"),
        ("plugin.contract.BadModel", "BadModel.params_model is 42, not a pydantic model class"),
        ("plugin.contract.BadCategories", "BadCategories.progress_categories is ['train'], not a dict"),
        ("plugin.contract.NOT_A_CLASS", "42 is not an Action; subclass"),
        (
            "synapse_sdk.plugins.categories.neural_net.TrainAction",
            "is the SDK's own TrainAction; name your subclass of it, like 'plugin.train.Train'",
        ),
        ("synapse_sdk.plugins.categories.base.Action", "is the SDK's own Action"),
    ],
    ids=["no-start", "params-model-42", "progress-categories", "not-a-class", "sdk-base", "sdk-action"],
)
def test_check_and_load_refuse_what_an_executor_cannot_run(make_plugin, entrypoint, message):
    folder = make_plugin(one_action("neural_net", "train", entrypoint), {"contract.py": CONTRACT})
    (problem,) = check_plugin(folder).problems
    assert message in problem
    with pytest.raises(ConfigError, match="actions.train.entrypoint"):
        load_action_class(folder, PluginConfig.load(folder), "train")


def test_check_builds_each_action_so_a_raising_init_is_reported(make_plugin):
    folder = make_plugin(
        one_action("neural_net", "train", "plugin.contract.Explodes"), {"contract.py": CONTRACT}
    )
    (problem,) = check_plugin(folder).problems
    assert "Explodes(params={}) failed: RuntimeError: boom; keep __init__ light" in problem


def test_missing_params_are_not_a_check_problem(make_plugin):
    folder = make_plugin(
        one_action("neural_net", "train", "plugin.contract.NeedsParams"), {"contract.py": CONTRACT}
    )
    assert check_plugin(folder).is_ok


def test_an_installed_package_named_by_an_entrypoint_is_not_forgotten(make_plugin):
    import json

    folder = make_plugin(one_action("neural_net", "train", "json.JSONDecoder"))
    assert "'JSONDecoder' is not an Action" in check_plugin(folder).problems[0]
    assert sys.modules["json"] is json


def test_check_caps_its_problems(make_plugin):
    from synapse_sdk.plugins.config import MAX_PROBLEMS

    actions = "".join(f"  a{i}:\n    entrypoint: plugin.nowhere.A{i}\n" for i in range(100))
    folder = make_plugin("code: many\nname: Many\nversion: 1.0.0\ncategory: neural_net\nactions:\n" + actions)
    problems = check_plugin(folder).problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1].endswith(f"... and {100 - MAX_PROBLEMS} more problem(s); fix these first")


def test_a_real_ctrl_c_while_importing_still_interrupts(make_plugin):
    source = "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(1)\n"
    folder = make_plugin(one_action("neural_net", "train", "plugin.train.Train"), {"train.py": source})
    with pytest.raises(KeyboardInterrupt):
        check_plugin(folder)
