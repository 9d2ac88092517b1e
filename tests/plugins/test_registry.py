"""Discovery: actions from installed packages' entry points, plugins from folders on disk."""

from __future__ import annotations

import re
import textwrap

import pytest

from synapse_sdk.errors import PluginNotFound
from synapse_sdk.plugins import registry
from synapse_sdk.plugins.registry import find_plugin, get_action_class

PLUGIN_CONFIG = """\
code: {code}
name: Finder
version: {version}
category: data_validation
actions:
  validation:
    entrypoint: plugin.check.Check
"""


@pytest.fixture
def installed_package(tmp_path, monkeypatch):
    """A real distribution on sys.path whose entry point adds a new category and action."""
    site = tmp_path / "site"
    (site / "acme_actions").mkdir(parents=True)
    (site / "acme_actions" / "__init__.py").write_text(
        textwrap.dedent(
            """\
            from synapse_sdk.plugins.categories.base import Action

            class Dedupe(Action):
                category = "dedupe"
                name = "dedupe"

                def start(self):
                    return sorted(set(self.params.get("items", [])))
            """
        )
    )
    dist = site / "acme_actions-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-actions\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[synapse_sdk.plugins]\ndedupe = acme_actions:Dedupe\n")
    monkeypatch.syspath_prepend(str(site))
    registry._entry_point_actions.cache_clear()
    yield
    registry._entry_point_actions.cache_clear()


def test_entry_points_add_categories_and_actions(installed_package):
    cls = get_action_class("dedupe", "dedupe")
    assert cls(params={"items": [3, 1, 3]}).run_action() == [1, 3]


@pytest.fixture
def plugin_path(make_plugin, monkeypatch, tmp_path):
    for version in ("1.2.0", "1.10.0", "1.9.9"):
        make_plugin(PLUGIN_CONFIG.format(code="finder", version=version), name=f"plugins/finder-{version}")
    monkeypatch.setenv("SYNAPSE_PLUGIN_PATH", str(tmp_path / "plugins"))
    return tmp_path / "plugins"


def test_plugins_on_disk_by_code_newest_first(plugin_path):
    assert find_plugin("finder").name == "finder-1.10.0"
    assert find_plugin("finder", "1.2.0").name == "finder-1.2.0"


def test_a_plugin_not_on_disk(plugin_path):
    with pytest.raises(PluginNotFound, match="plugin 'finder@9.0.0' not found"):
        find_plugin("finder", "9.0.0")


def test_every_declared_action_is_looked_up_in_the_category_table():
    from synapse_sdk.plugins.categories import CATEGORIES

    for category, spec in CATEGORIES.items():
        for name, action in spec.actions.items():
            assert get_action_class(category, name) is action.load()
            assert get_action_class(category.value, name) is action.load()


@pytest.mark.parametrize(
    ("category", "action", "message"),
    [
        ("neural_nte", "train", "unknown category 'neural_nte' (did you mean 'neural_net'?)"),
        (
            "export",
            "exprot",
            "category 'export' has no action 'exprot' (did you mean 'export'?); its actions: export",
        ),
    ],
    ids=["category", "action"],
)
def test_unknown_names_get_a_did_you_mean(category, action, message):
    from synapse_sdk.errors import ActionNotFound

    with pytest.raises(ActionNotFound, match=re.escape(message)):
        get_action_class(category, action)
