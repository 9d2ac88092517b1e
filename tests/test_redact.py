"""Secret-looking keys and their values are found at any depth and masked before storage."""

from __future__ import annotations

from synapse_sdk._redact import MASK, redact, secret_values


def test_secret_values_are_found_at_any_depth_longest_first():
    params = {"a": [{"api_token": "tok-12345"}, "x"], "password": "hunter22", "epochs": 3, "key": "k"}
    envs = {"AWS_SECRET_ACCESS_KEY": "abcd1234xyz", "HOME": "/root"}
    assert secret_values(params, envs, None) == ["abcd1234xyz", "tok-12345", "hunter22"]  # "k" is too short
    assert secret_values({"epochs": 3}, {}) == []


def test_redact_masks_the_values_of_secret_keys_only():
    assert redact({"db": {"password": "hunter22", "host": "h"}, "token": "", "n": [1, {"auth": "x"}]}) == {
        "db": {"password": MASK, "host": "h"},
        "token": "",
        "n": [1, {"auth": MASK}],
    }
