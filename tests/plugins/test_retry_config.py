"""``actions.<name>.retry`` in config.yaml: how many tries a job gets, and after what."""

from __future__ import annotations

import pytest

from synapse_sdk.errors import ConfigError
from synapse_sdk.plugins._yaml import load_yaml
from synapse_sdk.plugins.config import PluginConfig, RetryConfig

BASE = """\
code: steps
name: Steps
version: 0.1.0
category: neural_net
actions:
  train:
    entrypoint: plugin.train.Train
"""


def retry_of(lines: str) -> RetryConfig:
    return PluginConfig.from_dict(load_yaml(BASE + lines)).actions["train"].retry


def test_no_retry_key_means_one_attempt():
    assert retry_of("") == RetryConfig(max_attempts=1, on=("crash",))
    assert not retry_of("").allows("crash", 1)


def test_max_attempts_retries_crashes_only_by_default():
    retry = retry_of("    retry: {max_attempts: 3}\n")
    assert (retry.max_attempts, retry.on) == (3, ("crash",))
    assert retry.allows("crash", 1) and retry.allows("crash", 2) and not retry.allows("crash", 3)
    assert not retry.allows("error", 1)


def test_a_bare_on_key_is_read_as_on_not_as_yaml_true():
    retry = retry_of("    retry: {max_attempts: 2, on: [crash, error]}\n")
    assert retry.on == ("crash", "error") and retry.allows("error", 1)
    block = retry_of("    retry:\n      max_attempts: 2\n      on:\n        - error\n")
    assert block.on == ("error",) and not block.allows("crash", 1)


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ("    retry: {max_attempts: 0}\n",
         "actions.train.retry.max_attempts: input should be greater than or equal to 1, got 0"),
        ("    retry: {max_attempts: 101}\n",
         "actions.train.retry.max_attempts: input should be less than or equal to 100, got 101"),
        ("    retry: {max_attempts: 3, on: [boom]}\n",
         "actions.train.retry.on.0: expected one of crash, error, got 'boom'"),
        ("    retry: {max_attempts: 3, on: []}\n",
         "actions.train.retry: on: name what is retried, like [crash] or [crash, error]"),
        ("    retry: {max_attempt: 3}\n",
         "actions.train.retry.max_attempt: unknown key (did you mean 'max_attempts'?); "
         "allowed keys: max_attempts, on"),
        ("    method: task\n    retry: {max_attempts: 2}\n",
         "actions.train: retry: only job actions are tried again, this one is task; "
         "use method: job or remove retry"),
    ],
    ids=["zero", "too-many", "unknown-outcome", "nothing-retried", "misspelt-key", "not-a-job"],
)  # fmt: skip
def test_a_bad_retry_is_one_line_naming_the_key_and_the_fix(lines, problem):
    with pytest.raises(ConfigError) as caught:
        retry_of(lines)
    assert str(caught.value) == f"config.yaml: {problem}"
