"""No secret from a job's params or envs is stored or shown, whatever the action does with it.

Real jobs (``synapse plugin run ... --job-id``) whose params and ``--env`` hold secrets put them
in everything they can: printed output (stdout, stderr, split writes, a subprocess writing below
Python), log lines and structured events, progress and metric names, metric values, the result,
an exception's text and traceback, and a params validation error. Then neither ``job get --json``,
``job logs`` (text and JSON), nor any byte of any file under ``SYNAPSE_HOME`` (the database, its
WAL, ``jobs/<id>/worker.log``) holds one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.execution.test_jobs import wait_for

PASSWORD = "hunter2-s3cret"
PIN = 918273
SHORT_PIN = "q7z"  # under 4 characters: masked where it stands alone
API_KEYS = ["key-aaaa-1111", "key-bbbb-2222"]
DB_PASSWORD = "dbpass99"
DSN = f"postgres://app:{DB_PASSWORD}@db.local:5432/app"
PASSPHRASE = "correct horse battery"
HF_TOKEN = "hf_abcdef123456"
BEARER = "zz-auth-token-42"
PARAMS = {
    "password": PASSWORD, "pin": PIN, "user_pin": SHORT_PIN, "api_keys": API_KEYS, "dsn": DSN,
    "passphrase": PASSPHRASE, "epochs": 2,
}  # fmt: skip
ENVS = [f"HF_TOKEN={HF_TOKEN}", f"AUTHORIZATION=Bearer {BEARER}"]
#: What must appear nowhere (the short pin is checked where text is shown: 3 bytes may occur
#: by chance in a binary database file).
LONG_SECRETS = [PASSWORD, str(PIN), *API_KEYS, DB_PASSWORD, PASSPHRASE, HF_TOKEN, BEARER]

CONFIG = """\
code: leaky
name: Leaky
version: 1.0.0
category: neural_net
actions:
  train:
    entrypoint: plugin.train.Train
    method: job
"""
SOURCE = """\
import os
import sys
from pydantic import BaseModel, field_validator
from synapse_sdk.plugins.categories.neural_net import TrainAction


class Params(BaseModel):
    password: str
    pin: int
    user_pin: str
    api_keys: list[str]
    dsn: str
    passphrase: str
    epochs: int = 2
    fail: bool = False
    reject_in_worker: bool = False

    @field_validator("passphrase")
    @classmethod
    def _checked_in_the_worker(cls, value, info):
        # Stands in for a published release, whose params only its own env can validate: the CLI
        # checks them with validate_params() and accepts them; the worker builds the action
        # (__init__ below) and refuses them, quoting the value.
        if REJECT[0]:
            raise ValueError(f"passphrase {value!r} is too weak for password {info.data['password']}")
        return value


REJECT = [False]


class Train(TrainAction):
    params_model = Params

    def __init__(self, *args, **kwargs):
        REJECT[0] = bool((kwargs.get("params") or {}).get("reject_in_worker"))
        super().__init__(*args, **kwargs)

    def start(self):
        p = self.params
        token, auth = os.environ["HF_TOKEN"], os.environ["AUTHORIZATION"]
        print(f"connecting with {p['password']} to {p['dsn']}")
        print(f"pin {p['user_pin']} and {p['pin']}", file=sys.stderr)
        sys.stdout.write(p["password"][:5])
        sys.stdout.write(p["password"][5:] + " written in two pieces\\n")
        sys.stdout.flush()
        os.system(f"echo below python {p['password']} {token} {p['api_keys'][0]}")
        self.run.log_message(f"keys {p['api_keys']} phrase {p['passphrase']} auth {auth} pin={p['user_pin']}")
        self.run.log("credentials", {"keys": p["api_keys"], "pin": p["pin"], "note": f"token {token}",
                                     token: "as a key", "bearer": auth.split()[1]})
        self.run.set_progress(1, 2, f"epochs {p['password']}")
        self.run.set_metrics({f"loss {token}": 0.5, "pin": p["pin"], "leak": p["password"]}, f"m {token}")
        try:
            Train.validate_params({**self.raw_params, "pin": f"{p['password']}!"})
        except Exception as exc:  # a params error raised inside the action: its text is logged
            self.run.log_message(f"inner: {exc}", "ERROR")
        if p["fail"]:
            raise RuntimeError(f"cannot log in as app:{p['password']} to {p['dsn']} with {token}")
        return {"echo": p["password"], "pin": p["pin"], "dsn": p["dsn"], "keys": p["api_keys"],
                "nested": {"token": token, "short": p["user_pin"], "auth": auth}}
"""


def _submit(plugin: Path, job_id: str, params: dict) -> None:
    env = [arg for pair in ENVS for arg in ("--env", pair)]
    proc = run_cli("plugin", "run", "train", json.dumps(params), "--job-id", job_id, *env, cwd=plugin)
    assert proc.returncode == 0, proc.stderr


def _shown(job_id: str) -> dict[str, str]:
    """Everything the CLI shows of a job."""
    return {
        "job get --json": run_cli("job", "get", job_id, "--json").stdout,
        "job get": run_cli("job", "get", job_id).stdout,
        "job logs": run_cli("job", "logs", job_id).stdout,
        "job logs --json": run_cli("job", "logs", job_id, "--json").stdout,
    }


def _assert_no_secret(name: str, text: str, *, short_too: bool = True) -> None:
    for secret in LONG_SECRETS:
        assert secret not in text, f"{secret!r} appears in {name}:\n{text}"
    if short_too:
        assert not re.search(rf"(?<![\w-]){SHORT_PIN}(?![\w-])", text), (
            f"{SHORT_PIN!r} appears in {name}:\n{text}"
        )


def _assert_no_secret_in_files(home: Path) -> list[str]:
    """No long secret in any byte of any file under SYNAPSE_HOME; returns the files read."""
    read = []
    for file in sorted(p for p in home.rglob("*") if p.is_file()):
        data = file.read_bytes()
        for secret in LONG_SECRETS:
            assert secret.encode() not in data, f"{secret!r} appears in {file}"
        read.append(str(file.relative_to(home)))
    return read


@pytest.fixture
def plugin(make_plugin):
    return make_plugin(CONFIG, {"train.py": SOURCE})


def test_no_secret_is_stored_or_shown(plugin, store, synapse_home):
    _submit(plugin, "ok", PARAMS)
    _submit(plugin, "fails", {**PARAMS, "fail": True})
    _submit(plugin, "refused", {**PARAMS, "reject_in_worker": True})
    records = {
        job: wait_for(store, job, lambda r: r.status.is_terminal) for job in ("ok", "fails", "refused")
    }

    ok, fails, refused = records["ok"], records["fails"], records["refused"]
    assert ok.status == "SUCCEEDED", ok.error
    assert ok.result == {
        "echo": "***", "pin": "***", "dsn": "postgres://app:***@db.local:5432/app", "keys": ["***", "***"],
        "nested": {"token": "***", "short": "***", "auth": "***"},
    }  # fmt: skip
    assert ok.params == {
        "password": "***", "pin": "***", "user_pin": "***", "api_keys": "***",
        "dsn": "postgres://app:***@db.local:5432/app", "passphrase": "***", "epochs": 2,
    }  # fmt: skip
    assert ok.metrics == {"m ***": {"loss ***": 0.5, "pin": "***"}}  # the text metric was dropped
    assert list(ok.progress) == ["epochs ***"]
    assert fails.status == "FAILED"
    assert (
        fails.error
        == "RuntimeError: cannot log in as app:*** to postgres://app:***@db.local:5432/app with ***"
    )
    assert refused.status == "FAILED"
    assert refused.error.startswith(
        "invalid params for action 'train': params.passphrase: passphrase '***' is too weak for password ***"
    )

    messages = [e.message for e in store.get_logs("ok")]
    assert "connecting with *** to postgres://app:***@db.local:5432/app" in messages
    assert "pin *** and ***" in messages
    assert "*** written in two pieces" in messages
    assert any(m and m.startswith("inner: invalid params for action 'train': params.pin: ") for m in messages)

    for job in records:
        for name, text in _shown(job).items():
            _assert_no_secret(f"{name} {job}", text)
        worker_log = (synapse_home / "jobs" / job / "worker.log").read_text(errors="replace")
        _assert_no_secret(f"jobs/{job}/worker.log", worker_log)
    worker_log = (synapse_home / "jobs" / "ok" / "worker.log").read_text()
    assert "below python *** *** ***" in worker_log  # written by a subprocess, below Python
    assert "Traceback" in (synapse_home / "jobs" / "fails" / "worker.log").read_text()
    assert "Error: invalid params" in (synapse_home / "jobs" / "refused" / "worker.log").read_text()

    read = _assert_no_secret_in_files(synapse_home)
    assert {"synapse.db", "jobs/ok/worker.log"} <= set(read)
    assert any(name.endswith("-wal") for name in read) or "synapse.db" in read


def test_a_params_error_at_the_door_masks_secret_values(plugin, store):
    bad = {**PARAMS, "password": 12345678, "pin": f"{PASSWORD}?", "api_keys": "key-aaaa-1111"}
    proc = run_cli("plugin", "run", "train", json.dumps(bad), "--job-id", "door", cwd=plugin)
    assert proc.returncode == 2
    assert "params.password: input should be a valid string, got ***" in proc.stderr
    assert (
        "params.pin: input should be a valid integer, unable to parse string as an integer, got ***"
        in proc.stderr
    )
    _assert_no_secret("the CLI's error", proc.stderr + proc.stdout)
    assert "12345678" not in proc.stderr
    assert store.list_runs() == []


# -- the pieces: the worker's streams and the supervisor's copy -----------------------------------


def test_the_worker_streams_mask_a_secret_written_in_pieces():
    import io

    from synapse_sdk._redact import Masker
    from synapse_sdk.execution.output import MaskedOutput

    original = io.StringIO()
    stream = MaskedOutput(original, Masker([PASSWORD]))
    stream.write(f"login {PASSWORD[:4]}")
    stream.write(f"{PASSWORD[4:]} ok\nprogress 5")
    assert original.getvalue() == "login *** ok\n"  # the partial line waits for its end...
    stream.flush()
    assert original.getvalue() == "login *** ok\nprogress 5"  # ...or a flush


def test_the_supervisor_copies_output_masked_and_other_bytes_unchanged(tmp_path):
    import os
    import threading

    from synapse_sdk._redact import Masker
    from synapse_sdk.execution.output import copy_masked

    read_end, write_end = os.pipe()
    target = tmp_path / "worker.log"
    with open(read_end, "rb") as source, open(target, "wb") as log:
        copier = threading.Thread(target=copy_masked, args=(source, log, Masker([PASSWORD, SHORT_PIN])))
        copier.start()
        for piece in (
            f"a {PASSWORD[:3]}".encode(),
            f"{PASSWORD[3:]} b\n".encode(),
            b"caf\xe9 ",
            b"q7z\n",
            b"end",
        ):
            os.write(write_end, piece)
        os.close(write_end)
        copier.join(10)
    assert target.read_bytes() == b"a *** b\ncaf\xe9 ***\nend"
