"""config.yaml: every spec key, spec defaults, and errors that name the file, key and fix."""

from __future__ import annotations

import pytest

from synapse_sdk.errors import ConfigError
from synapse_sdk.plugins.categories import CATEGORIES, METHODS, Category
from synapse_sdk.plugins.config import PluginConfig

SPEC_CONFIG = """\
# Plugin metadata
code: "my-plugin"
name: "My Custom Plugin"
version: "1.0.0"
category: "neural_net"
description: "A custom ML plugin"
# Package management
package_manager: "pip" # or "uv"
package_manager_options: ["--no-cache", "--quiet"]
# Action definitions
actions:
  train:
    entrypoint: "plugin.train.TrainAction"
    method: "job"
  inference:
    entrypoint: "plugin.inference.InferenceAction"
    method: "restapi"
"""


def write(tmp_path, text: str):
    (tmp_path / "config.yaml").write_text(text)
    return tmp_path


def test_the_spec_config_loads(tmp_path):
    config = PluginConfig.load(write(tmp_path, SPEC_CONFIG))
    assert config.code == "my-plugin"
    assert config.category == "neural_net"
    assert config.package_manager_options == ["--no-cache", "--quiet"]
    assert config.actions["train"].method == "job"
    assert config.actions["inference"].class_name == "InferenceAction"
    assert config.uri == "my-plugin@1.0.0"


@pytest.mark.parametrize(
    ("manager", "expected"), [("pip", ["--upgrade"]), ("uv", ["--no-cache"])], ids=["pip", "uv"]
)
def test_package_manager_options_default_as_the_spec_says(tmp_path, manager, expected):
    text = SPEC_CONFIG.replace('"pip" # or "uv"', f'"{manager}"').replace(
        'package_manager_options: ["--no-cache", "--quiet"]\n', ""
    )
    assert PluginConfig.load(write(tmp_path, text)).package_manager_options == expected


@pytest.mark.parametrize(
    ("find", "replace", "message"),
    [
        (
            'method: "job"',
            'method: "jobs"',
            "actions.train.method: expected one of job, task, restapi, got 'jobs' (did you mean 'job'?)",
        ),
        (
            'category: "neural_net"',
            'category: "neural_nets"',
            "category: expected one of neural_net, export, upload, smart_tool, pre_annotation, "
            "post_annotation, data_validation, got 'neural_nets' (did you mean 'neural_net'?)",
        ),
        ('code: "my-plugin"', 'code: "My Plugin"', "code: expected a slug"),
        ('version: "1.0.0"', 'version: "1.0"', "version: expected a semantic version like '1.0.0'"),
        ("description:", "descripton:", "descripton: unknown key (did you mean 'description'?)"),
        ('    method: "restapi"', '    methd: "restapi"', "actions.inference.methd: unknown key"),
        ('name: "My Custom Plugin"\n', "", "name: required key is missing"),
        (
            'package_manager: "pip" # or "uv"',
            'package_manager: "conda"',
            "package_manager: expected one of pip, uv, got 'conda'",
        ),
    ],
    ids=["method", "category", "code", "version", "typo", "action-typo", "missing", "manager"],
)
def test_errors_name_file_key_and_fix(tmp_path, find, replace, message):
    assert find in SPEC_CONFIG
    write(tmp_path, SPEC_CONFIG.replace(find, replace))
    with pytest.raises(ConfigError) as info:
        PluginConfig.load(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'config.yaml'}: ")
    assert message in str(info.value)
    assert info.value.exit_code == 2


def test_every_problem_is_reported_at_once(tmp_path):
    text = SPEC_CONFIG.replace('method: "job"', 'method: "jobs"').replace('"1.0.0"', '"one"')
    with pytest.raises(ConfigError) as info:
        PluginConfig.load(write(tmp_path, text))
    assert len(info.value.problems) == 2


def test_malformed_yaml_names_line_and_column(tmp_path):
    write(tmp_path, "code: [unclosed\nname: x\n")
    with pytest.raises(ConfigError, match=r"config.yaml: line \d+, column \d+: invalid YAML"):
        PluginConfig.load(tmp_path)


def test_missing_config_says_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="synapse plugin create"):
        PluginConfig.load(tmp_path)


def test_a_config_that_is_not_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match="expected a mapping"):
        PluginConfig.load(write(tmp_path, "- just\n- a list\n"))


def test_entrypoint_must_be_a_dotted_path(tmp_path):
    with pytest.raises(ConfigError, match="actions.train.entrypoint: expected a dotted path"):
        PluginConfig.load(write(tmp_path, SPEC_CONFIG.replace("plugin.train.TrainAction", "train")))


def one_action(category: str, action: str, method: str) -> dict:
    return {
        "code": "one",
        "name": "One",
        "version": "1.0.0",
        "category": category,
        "actions": {action: {"entrypoint": "plugin.a.A", "method": method}},
    }


def table_cases() -> list[tuple[str, str, str, bool]]:
    """(category, action, method, allowed) for every declared action and a custom one, from the table."""
    cases = []
    for category, spec in CATEGORIES.items():
        for action in [*spec.actions, "my_own_action"]:
            for method in METHODS:
                cases.append((category.value, action, method, method in spec.methods_for(action)))
    return cases


@pytest.mark.parametrize(
    ("category", "action", "method", "allowed"), table_cases(), ids=["-".join(c[:3]) for c in table_cases()]
)
def test_the_category_table_decides_which_methods_validate(category, action, method, allowed):
    if allowed:
        assert PluginConfig.from_dict(one_action(category, action, method)).actions[action].method == method
        return
    with pytest.raises(ConfigError) as info:
        PluginConfig.from_dict(one_action(category, action, method))
    choices = ", ".join(CATEGORIES[Category(category)].methods_for(action))
    assert info.value.problems == [
        f"config.yaml: actions.{action}.method: {category} plugins cannot use {method!r}; "
        f"use one of {choices} ({method} is for neural_net and smart_tool plugins)"
    ]


@pytest.mark.parametrize(
    ("category", "choices"),
    [("neural_net", "job, task, restapi"), ("export", "job, task")],
    ids=["neural_net", "export"],
)
def test_an_unknown_method_lists_the_categorys_choices(category, choices):
    with pytest.raises(ConfigError) as info:
        PluginConfig.from_dict(one_action(category, "run_it", "jobs"))
    assert info.value.problems == [
        f"config.yaml: actions.run_it.method: expected one of {choices}, got 'jobs' (did you mean 'job'?)"
    ]


def test_a_refused_method_is_reported_with_every_other_problem():
    data = one_action("upload", "upload", "restapi") | {"version": "one"}
    data["actions"]["second"] = {"entrypoint": "plugin.a.B", "method": "restapi", "num_cpus": -1}
    with pytest.raises(ConfigError) as info:
        PluginConfig.from_dict(data)
    assert sorted(p.split(": ")[1] for p in info.value.problems) == [
        "actions.second.method",
        "actions.second.num_cpus",
        "actions.upload.method",
        "version",
    ]


def test_the_method_key_is_the_tables_literal():
    from typing import get_args

    from synapse_sdk.plugins.categories import Method
    from synapse_sdk.plugins.config import ActionConfig

    assert get_args(ActionConfig.model_fields["method"].annotation) == get_args(Method) == METHODS


# -- hostile or broken files: one line naming the file and the fix, every time (issue 10, item 7) ----

VALID = SPEC_CONFIG


def one_problem(tmp_path, raw: bytes | str) -> str:
    file = tmp_path / "config.yaml"
    file.write_bytes(raw.encode() if isinstance(raw, str) else raw)
    with pytest.raises(ConfigError) as info:
        PluginConfig.load(tmp_path)
    (problem,) = info.value.problems
    assert str(info.value) == problem and "\n" not in problem
    assert problem.startswith(f"{file}:")
    return problem


def test_a_latin1_file_names_the_line_and_says_to_save_it_as_utf8(tmp_path):
    problem = one_problem(tmp_path, VALID.replace("My Custom", "Mein Müller").encode("latin-1"))
    assert "line 3: byte 0xfc is not UTF-8; save the file as UTF-8" in problem


def test_deep_nesting_is_refused_before_python_recurses(tmp_path):
    problem = one_problem(tmp_path, VALID + "x: " + "[" * 20_000 + "]" * 20_000 + "\n")
    assert "nested more than 32 levels deep" in problem


def test_an_alias_bomb_is_refused_in_a_short_line(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdef", "bcdefg", strict=True)
    )
    assert len(bomb) < 500
    problem = one_problem(tmp_path, bomb + VALID)
    assert "more than 10,000 values once aliases (*name) are expanded" in problem
    assert len(problem) < 300


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    assert "inside its own anchor" in one_problem(tmp_path, VALID + "loop: &l [1, *l]\n")


def test_anchors_and_merge_keys_within_the_budget_still_work(tmp_path):
    text = VALID.replace(
        '  train:\n    entrypoint: "plugin.train.TrainAction"\n    method: "job"\n',
        '  train: &train\n    entrypoint: "plugin.train.TrainAction"\n    method: "job"\n'
        "  again:\n    <<: *train\n    method: task\n",
    )
    config = PluginConfig.load(write(tmp_path, text))
    assert (config.actions["again"].entrypoint, config.actions["again"].method) == (
        "plugin.train.TrainAction",
        "task",
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (VALID + 'code: "other"\n', "line 18, column 1"),
        (VALID + "  train:\n    entrypoint: a.B\n", "line 18, column 3"),
    ],
    ids=["top-level", "action"],
)
def test_a_key_given_twice_is_refused_not_last_wins(tmp_path, text, where):
    problem = one_problem(tmp_path, text)
    assert "is given twice (first on line" in problem and where in problem


def test_twenty_thousand_unknown_keys_make_a_short_message(tmp_path):
    file = tmp_path / "config.yaml"
    file.write_text(VALID + "".join(f"key{i}: 1\n" for i in range(20_000)))
    with pytest.raises(ConfigError) as info:
        PluginConfig.load(tmp_path)
    assert len(str(info.value)) < 2_000


def test_unknown_keys_are_capped_and_the_rest_counted(tmp_path):
    from synapse_sdk.plugins.config import MAX_PROBLEMS

    with pytest.raises(ConfigError) as info:
        PluginConfig.load(write(tmp_path, VALID + "".join(f"key{i}: 1\n" for i in range(500))))
    problems = info.value.problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[0].endswith("key0: unknown key; allowed keys: " + ", ".join(PluginConfig.model_fields))
    assert problems[-1].endswith(f"... and {500 - MAX_PROBLEMS} more problem(s); fix these first")


def test_a_huge_value_is_clipped_in_its_message(tmp_path):
    with pytest.raises(ConfigError) as info:
        PluginConfig.load(write(tmp_path, VALID.replace('"A custom ML plugin"', "[" + "1, " * 5000 + "1]")))
    assert len(str(info.value)) <= 1_000


@pytest.mark.parametrize("scalar", ["9" * 5000, "2024-13-45"], ids=["5000-digit-int", "13th-month"])
def test_a_scalar_python_cannot_hold_is_one_line(tmp_path, scalar):
    problem = one_problem(tmp_path, VALID + f"when: {scalar}\n")
    assert "quote it to keep it as text" in problem and "line 18, column 7" in problem


def test_a_file_too_large_is_refused_before_parsing(tmp_path):
    assert "larger than 256 KiB" in one_problem(tmp_path, VALID + "#" * (300 << 10) + "\n")


@pytest.mark.parametrize(
    ("find", "replace", "key"),
    [('"my-plugin"', '"my-plugin\\n"', "code"), ('"1.0.0"', '"1.0.0\\n"', "version"),
     ('"plugin.train.TrainAction"', '"plugin.train.TrainAction\\n"', "actions.train.entrypoint"),
     ("  train:", '  "train\\n":', "actions")],
    ids=["code", "version", "entrypoint", "action-name"],
)  # fmt: skip
def test_a_trailing_newline_does_not_pass_an_anchored_pattern(tmp_path, find, replace, key):
    with pytest.raises(ConfigError) as info:
        PluginConfig.load(write(tmp_path, SPEC_CONFIG.replace(find, replace)))
    assert any(f"config.yaml: {key}" in p for p in info.value.problems), info.value.problems
