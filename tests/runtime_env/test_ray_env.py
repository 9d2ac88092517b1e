"""``get_runtime_env()`` -> Ray ``runtime_env``: pip or uv with their options, env vars, working_dir."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from synapse_sdk.errors import ConfigError
from synapse_sdk.runtime_env.ray import EXCLUDES, backend_env_vars, backend_secrets, to_ray_runtime_env

ACTION_ENV = {
    "env_vars": {"MODEL": "resnet", "EPOCHS": 3},
    "pip": {"packages": ["six==1.16.0"], "pip_install_options": ["--upgrade"]},
    "working_dir": "/plugins/demo",
}


def test_pip_packages_keep_their_options():
    env = to_ray_runtime_env(ACTION_ENV, "pip", extra_env_vars={"SYNAPSE_HOME": "/h"})
    assert env == {
        "env_vars": {"MODEL": "resnet", "EPOCHS": "3", "SYNAPSE_HOME": "/h"},
        "pip": {"packages": ["six==1.16.0"], "pip_install_options": ["--upgrade"]},
        "working_dir": "/plugins/demo",
        "excludes": EXCLUDES,
    }


def test_uv_plugins_get_the_uv_field_with_its_options():
    env = to_ray_runtime_env(
        {**ACTION_ENV, "pip": {"packages": ["six"], "pip_install_options": ["--no-cache"]}}, "uv"
    )
    assert env["uv"] == {"packages": ["six"], "uv_pip_install_options": ["--no-cache"]}
    assert "pip" not in env


def test_spec_customisation_and_empty_fields():
    env = {"env_vars": {}, "pip": {"packages": [], "pip_install_options": ["--upgrade"]}, "working_dir": None}
    assert to_ray_runtime_env(env) == {}
    custom = {**ACTION_ENV, "pip": ["custom-package==1.0.0"], "py_executable": "python3"}
    ray_env = to_ray_runtime_env(custom)
    assert ray_env["pip"] == {"packages": ["custom-package==1.0.0"], "pip_install_options": []}
    assert ray_env["py_executable"] == "python3"  # other Ray fields pass through


def test_bad_inputs_are_config_errors():
    with pytest.raises(ConfigError, match="expected 'pip' or 'uv'"):
        to_ray_runtime_env(ACTION_ENV, "conda")
    with pytest.raises(ConfigError, match="expected pip as"):
        to_ray_runtime_env({"pip": "six"})


def test_backend_env_vars_name_the_same_backend_but_keep_the_token_apart():
    settings = SimpleNamespace(home="/srv/synapse", host="http://10.0.0.5:8080", access_token="tok-1")
    assert backend_env_vars(settings) == {
        "SYNAPSE_HOME": "/srv/synapse",
        "SYNAPSE_HOST": "http://10.0.0.5:8080",
    }
    assert backend_secrets(settings) == {"SYNAPSE_ACCESS_TOKEN": "tok-1"}
    assert backend_secrets(SimpleNamespace(access_token=None)) == {}
