"""Secret-looking keys and their values are found at any depth and masked before storage."""

from __future__ import annotations

import pytest

from synapse_sdk._redact import MASK, Masker, is_secret_key, mask_text, mask_urls, redact, secret_values


def test_secret_values_are_found_at_any_depth_longest_first():
    params = {"a": [{"api_token": "tok-12345"}, "x"], "password": "hunter22", "epochs": 3, "key": "k"}
    envs = {"AWS_SECRET_ACCESS_KEY": "abcd1234xyz", "HOME": "/root"}
    assert secret_values(params, envs, None) == ["abcd1234xyz", "tok-12345", "hunter22", "k"]
    assert secret_values({"epochs": 3}, {}) == []


def test_redact_masks_the_values_of_secret_keys_only():
    assert redact({"db": {"password": "hunter22", "host": "h"}, "token": "", "n": [1, {"auth": "x"}]}) == {
        "db": {"password": MASK, "host": "h"},
        "token": "",
        "n": [1, {"auth": MASK}],
    }


SECRET_KEYS = [
    "password", "passwd", "passphrase", "pwd", "db_pwd", "pin", "user_pin", "PIN", "pin_code",
    "token", "api_token", "HF_TOKEN", "accessToken", "hftoken", "id_token", "key", "api_key", "apiKey",
    "APIKey", "x-api-key", "AWS_SECRET_ACCESS_KEY", "private_key", "secret", "client_secret",
    "clientSecret", "dbpassword", "credentials", "creds", "auth", "authorization", "Authorization",
    "cookie", "Set-Cookie", "session", "session_id", "sessionid", "private", "api_keys",
]  # fmt: skip
HARMLESS_KEYS = [
    "monkey", "keyboard_layout", "tokenizer", "max_tokens", "num_tokens", "eos_token_id", "pad_token",
    "token_url", "pin_memory", "key_path", "sort_key", "object_key", "author", "epochs", "PWD",
    "OLDPWD", "AWS_ACCESS_KEY_ID", "learning_rate", "spinner", "turkey", "session_timeout",
]  # fmt: skip


@pytest.mark.parametrize("key", SECRET_KEYS, ids=SECRET_KEYS)
def test_secret_looking_keys(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key", HARMLESS_KEYS, ids=HARMLESS_KEYS)
def test_harmless_keys_are_not_secret(key):
    assert not is_secret_key(key)


def test_everything_under_a_secret_key_is_a_secret_lists_and_numbers_included():
    params = {
        "api_keys": ["key-one-1111", "k2"],
        "credentials": {"user": "bob", "nested": [{"x": "deep-secret"}]},
        "password": 12345,
        "pin": 7,
        "auth": True,  # a flag, not a secret
        "token": None,
        "epochs": 7,
    }
    assert secret_values(params) == ["key-one-1111", "deep-secret", "12345", "bob", "k2", "7"]
    assert redact(params) == {
        "api_keys": MASK, "credentials": MASK, "password": MASK, "pin": MASK,
        "auth": True, "token": None, "epochs": 7,
    }  # fmt: skip


def test_url_credentials_are_masked_anywhere_and_their_passwords_are_secrets():
    params = {"dsn": "postgres://u:pw@db.example:5432/app", "notes": ["see redis://:s3cr3t@cache/0"]}
    assert redact(params) == {
        "dsn": "postgres://u:***@db.example:5432/app",
        "notes": ["see redis://:***@cache/0"],
    }
    assert secret_values(params) == ["s3cr3t", "pw"]
    text = "connecting to postgres://u:pw@db.example:5432/app, then https://host:8080/path"
    assert (
        mask_urls(text) == "connecting to postgres://u:***@db.example:5432/app, then https://host:8080/path"
    )
    assert mask_text("plain text", []) == "plain text"


def test_the_long_parts_of_a_secret_of_several_words_or_lines_are_secrets_too():
    pem = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0\nAQEFAASC\n-----END KEY-----"
    masker = Masker(secret_values({"private_key": pem, "Authorization": "Bearer zz-auth-42"}))
    assert masker.text("line: MIIEvQIBADANBgkqhkiG9w0, AQEFAASC") == "line: ***, ***"
    assert masker.text(f"whole: {pem}") == "whole: ***"
    assert masker.text("token zz-auth-42; scheme Bearer") == "token ***; scheme Bearer"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("pin 7", "pin ***"),
        ("pin=7&x=1", "pin=***&x=1"),
        ('{"pin": "7"}', '{"pin": "***"}'),
        ("your pin is 7.", "your pin is ***."),
        ("epoch 7/10", "epoch 7/10"),
        ("lr 0.7", "lr 0.7"),
        ("7.5 ms", "7.5 ms"),
        ("v7 build-7 a7b", "v7 build-7 a7b"),
        ("uses abc and xabcx", "uses *** and xabcx"),
    ],
    ids=[
        "spaced",
        "query",
        "json",
        "full-stop",
        "fraction",
        "decimal",
        "decimal-start",
        "inside-words",
        "word",
    ],
)
def test_short_secrets_are_masked_only_as_whole_tokens(text, masked):
    assert Masker(["7", "abc"]).text(text) == masked


def test_long_secrets_are_masked_anywhere():
    masker = Masker(["hunter22"])
    assert masker.text("Bearer xhunter22x and hunter22") == "Bearer x***x and ***"


def test_values_are_masked_in_strings_keys_and_equal_numbers():
    masker = Masker(["12345", "hunter22", "7"])
    value = {"hunter22": [12345, 12345.5, "pw hunter22", 7, ("7",)], "n": True}
    assert masker.value(value) == {MASK: [MASK, 12345.5, "pw ***", 7, [MASK]], "n": True}
    assert not Masker([]) and Masker(["x"])


def test_a_structure_that_holds_itself_or_nests_too_deep_ends_masked():
    loop: dict = {"password": "hunter22"}
    loop["self"] = loop
    deep: object = "bottom"
    for _ in range(5000):
        deep = [deep]
    shown = redact(loop)
    while isinstance(shown, dict):
        assert shown["password"] == MASK
        shown = shown["self"]
    assert shown == MASK
    assert secret_values(loop) == ["hunter22"]
    assert redact({"deep": deep})["deep"] is not None
    assert Masker(["x"]).value(deep) is not None
