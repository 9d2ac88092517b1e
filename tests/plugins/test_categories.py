"""The one category table: every base class agrees with it, and importing it imports no action."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from synapse_sdk.plugins.categories import CATEGORIES, METHODS, ActionSpec, Category, CategorySpec

DECLARED = [(category, name, spec) for category, c in CATEGORIES.items() for name, spec in c.actions.items()]


def test_every_category_is_in_the_table():
    assert list(CATEGORIES) == list(Category)


@pytest.mark.parametrize(("category", "name", "spec"), DECLARED, ids=[f"{c}-{n}" for c, n, _ in DECLARED])
def test_each_base_class_agrees_with_the_table(category, name, spec):
    cls = spec.load()
    assert (cls.category, cls.name, cls.method) == (category, name, spec.default_method)
    assert cls.__dict__.get("is_category_base") is True
    assert spec.default_method in spec.methods
    module, _, class_name = spec.base.partition(":")
    assert module == f"synapse_sdk.plugins.categories.{category.value}"  # the public path, not the file
    assert class_name in sys.modules[module].__all__
    assert spec.path == f"{module}.{class_name}"


def test_serving_is_for_model_facing_categories_and_every_method_is_used():
    for category, spec in CATEGORIES.items():
        serves = category in (Category.NEURAL_NET, Category.SMART_TOOL)
        expected = METHODS if serves else ("job", "task")
        assert spec.methods == expected
        assert all(action.methods == expected for action in spec.actions.values())
    used = {m for spec in CATEGORIES.values() for a in spec.actions.values() for m in a.methods}
    assert used == set(METHODS)


def test_a_custom_action_gets_the_categorys_methods():
    assert CATEGORIES[Category.EXPORT].methods_for("my_own") == ("job", "task")
    assert CATEGORIES[Category.SMART_TOOL].methods_for("my_own") == ("job", "task", "restapi")


def test_a_default_method_must_be_allowed():
    with pytest.raises(ValueError, match="default method 'restapi' is not in"):
        ActionSpec("pkg.mod:Thing", "restapi", ("job", "task"))


def test_the_table_is_read_only():
    with pytest.raises(TypeError):
        CATEGORIES[Category.EXPORT] = CategorySpec(actions={}, methods=("job",))  # type: ignore[index]
    with pytest.raises(TypeError):
        CATEGORIES[Category.EXPORT].actions["extra"] = ActionSpec("a:B", "job", ("job",))  # type: ignore[index]


def test_an_unknown_base_fails_on_lookup_not_on_import():
    spec = ActionSpec("synapse_sdk.plugins.categories.neural_net:NoSuchAction", "job", ("job",))
    with pytest.raises(AttributeError, match="NoSuchAction"):
        spec.load()


def test_importing_the_table_imports_no_category_package():
    probe = (
        "import json, sys\nimport synapse_sdk.plugins.categories\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('synapse_sdk.plugins.categories.'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    loaded = set(json.loads(out))
    assert not {f"synapse_sdk.plugins.categories.{c.value}" for c in Category} & loaded
