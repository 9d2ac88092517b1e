"""A broken ``SYNAPSE_HOME`` or database: one ``Error:`` line naming the path and the fix, never a run.

Each home is broken for real (a garbage database, a folder in its place, the home a file, a
schema from a newer SDK, a read-only home, a file where ``jobs/`` goes) and every command runs
through the installed ``synapse`` script: the exit code is the one ``BackendError`` maps to, the
one line survives a narrow terminal, nothing says a run or job was made, and the home is left as
it was. Read commands do not wait behind another process's write lock.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.errors import BackendError
from tests.conftest import run_cli

JOB_ID = "never-made-job-7"
PARAMS = '{"dataset_path": "/data/images", "epochs": 1}'
#: Terminal settings a wrapping renderer would break a long line at.
NARROW = {"COLUMNS": "60", "LINES": "20", "TERM": "xterm-256color"}
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ROOT_IGNORES_MODES = "running as root: a chmod 500 folder stays writable, so it is not broken"


def garbage_database(home: Path) -> Path:
    home.mkdir()
    (home / "synapse.db").write_bytes(b"these are not the bytes of a SQLite database\n" * 100)
    return home / "synapse.db"


def database_is_a_folder(home: Path) -> Path:
    (home / "synapse.db").mkdir(parents=True)
    return home / "synapse.db"


def home_is_a_file(home: Path) -> Path:
    home.write_text("SYNAPSE_HOME should be a folder\n")
    return home


def newer_schema(home: Path) -> Path:
    home.mkdir()
    conn = sqlite3.connect(home / "synapse.db")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    return home / "synapse.db"


def read_only_home(home: Path) -> Path:
    home.mkdir()
    home.chmod(0o500)
    return home


def read_only_home_with_database(home: Path) -> Path:
    EmbeddedBackend(home / "synapse.db").close()
    home.chmod(0o500)
    return home / "synapse.db"


def jobs_is_a_file(home: Path) -> Path:
    EmbeddedBackend(home / "synapse.db").close()
    (home / "jobs").write_text("where job folders should go\n")
    return home / "jobs"


@dataclass(frozen=True)
class Broken:
    """A way to break a home: ``make(home)`` breaks it and returns the path the error must name."""

    make: Callable[[Path], Path]
    needs_modes: bool = False  # only a non-root user is stopped by a folder's mode
    database_works: bool = False  # the database itself is fine (a folder beside it is not)

    @property
    def name(self) -> str:
        return self.make.__name__


BROKEN = [
    Broken(garbage_database),
    Broken(database_is_a_folder),
    Broken(home_is_a_file),
    Broken(newer_schema),
    Broken(read_only_home, needs_modes=True),
    Broken(read_only_home_with_database, needs_modes=True),
]
READS = {
    "job list": ["job", "list"],
    "job get": ["job", "get", JOB_ID],
    "plugin list": ["plugin", "list"],
}
ACTIONS = {
    "run in-process (--debug)": ["plugin", "run", "train", PARAMS, "--debug"],
    "run in a worker": ["plugin", "run", "train", PARAMS],
    "run as a background job": ["plugin", "run", "train", PARAMS, "--job-id", JOB_ID],
}
#: What would point at a run or job: a submitted job, a run's id (16 hex digits), its logs.
CLAIMS = re.compile(rf"{JOB_ID}|submitted|succeeded|synapse job (logs|get)|\b[0-9a-f]{{16}}\b")


def cases() -> Iterator[object]:
    for broken in BROKEN:
        marks = [pytest.mark.skipif(AS_ROOT, reason=ROOT_IGNORES_MODES)] if broken.needs_modes else []
        for label, args in {**READS, **ACTIONS}.items():
            yield pytest.param(broken, args, id=f"{broken.name}-{label}", marks=marks)
    jobs = Broken(jobs_is_a_file, database_works=True)
    for label in ("run in a worker", "run as a background job"):  # the two that make a job folder
        yield pytest.param(jobs, ACTIONS[label], id=f"{jobs.name}-{label}")


def snapshot(home: Path) -> dict[str, bytes | None]:
    """Every path under ``home`` (the home itself if it is a file), with a file's bytes."""
    if not home.is_dir():
        return {".": home.read_bytes()}
    return {
        str(p.relative_to(home)): (p.read_bytes() if p.is_file() else None) for p in sorted(home.rglob("*"))
    }


@pytest.fixture
def restore_modes(synapse_home: Path) -> Iterator[None]:
    """Make the home writable again afterwards, so that its folder can be removed."""
    yield
    if synapse_home.is_dir():
        synapse_home.chmod(0o700)


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one ``Error:`` line of a command that failed on the home, after every common check."""
    assert proc.returncode == BackendError.exit_code, (proc.returncode, proc.stderr)
    assert proc.returncode != 0
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    (line,) = lines
    assert line.startswith("Error: ") and line.strip() != "Error:", line
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "internal error" not in line
    assert proc.stdout == "", proc.stdout  # not a job id, not a result
    assert CLAIMS.search(line) is None, line
    assert "SYNAPSE_HOME" in line, line  # the way out is named
    return line


@pytest.mark.usefixtures("restore_modes")
@pytest.mark.parametrize(("broken", "args"), list(cases()))
def test_a_broken_home_is_one_line_naming_the_path_and_no_run(
    broken: Broken, args: list[str], synapse_home: Path, demo_plugin: Path
) -> None:
    named = broken.make(synapse_home)
    before = snapshot(synapse_home)
    proc = run_cli(*args, cwd=demo_plugin, env=NARROW)
    line = one_error_line(proc)
    assert str(named) in line, line
    if synapse_home.is_dir():
        synapse_home.chmod(0o700)
    time.sleep(0.2)  # a supervisor that should not exist would have made its folder by now
    assert snapshot(synapse_home) == before  # no database, run folder or job folder was made
    if broken.database_works:
        assert EmbeddedBackend(synapse_home / "synapse.db").runs.list_runs() == []


@pytest.mark.parametrize("args", list(ACTIONS.values()), ids=list(ACTIONS))
def test_a_release_folder_that_cannot_be_made_is_one_line_and_no_run(
    args: list[str], synapse_home: Path, demo_plugin: Path, tmp_path: Path
) -> None:
    assert run_cli("plugin", "publish", cwd=demo_plugin).returncode == 0
    (synapse_home / "releases").write_text("where releases are extracted\n")
    before = snapshot(synapse_home)
    proc = run_cli(*args, "--plugin", "demo-train@1.0.0", cwd=tmp_path, env=NARROW)
    line = one_error_line(proc)
    assert f"{synapse_home / 'releases'} is a file, not a folder: move it away" in line
    time.sleep(0.2)
    assert snapshot(synapse_home).keys() == before.keys()  # no run or job folder (the database may change)
    assert EmbeddedBackend(synapse_home / "synapse.db").runs.list_runs() == []


def test_synapse_debug_shows_the_traceback_of_a_broken_home(synapse_home: Path) -> None:
    garbage_database(synapse_home)
    proc = run_cli("job", "list", env={"SYNAPSE_DEBUG": "1"})
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr
    assert "BackendError" in proc.stderr


def test_a_run_folder_that_cannot_be_made_fails_the_run_it_belongs_to(
    make_plugin: Callable[..., Path], synapse_home: Path
) -> None:
    """``runs/`` a file: the run exists (it failed), so the error may and does point at it."""
    config = "code: folders\nname: Folders\nversion: 0.1.0\ncategory: neural_net\n"
    config += "actions:\n  train:\n    entrypoint: plugin.train.Train\n    method: task\n"
    train = (
        "from synapse_sdk.plugins.categories.neural_net import TrainAction\n\n"
        "class Train(TrainAction):\n"
        "    def start(self):\n"
        "        return str(self.run.path)\n"
    )
    folder = make_plugin(config, {"train.py": train})
    EmbeddedBackend(synapse_home / "synapse.db").close()
    (synapse_home / "runs").write_text("where run folders should go\n")
    proc = run_cli("plugin", "run", "train", cwd=folder, env=NARROW)
    assert proc.returncode == 1
    line = proc.stderr.splitlines()[-1]  # after the run's own log of its failure
    (record,) = EmbeddedBackend(synapse_home / "synapse.db").runs.list_runs()
    assert line.startswith(f"Error: action 'train' failed: BackendError: cannot make folder {synapse_home}")
    assert f"{synapse_home / 'runs'} is a file, not a folder: move it away" in line
    assert line.endswith(f"(run {record.id}; see 'synapse job logs {record.id}')")
    assert record.status == "FAILED"


HOLD_WRITE_LOCK = """\
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO runs (id, action, status, created_at) VALUES ('w', 'train', 'PENDING', 0)")
print("locked", flush=True)
time.sleep(5)
conn.execute("ROLLBACK")
"""


def test_read_commands_do_not_wait_behind_another_process_write_lock(synapse_home: Path) -> None:
    assert run_cli("job", "list").returncode == 0  # the home and its database exist
    started = time.monotonic()
    assert run_cli("job", "list").returncode == 0
    unlocked = time.monotonic() - started
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(synapse_home / "synapse.db")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"  # it holds the lock for the next 5 s
        for args in READS.values():
            started = time.monotonic()
            proc = run_cli(*args)
            locked = time.monotonic() - started
            assert holder.poll() is None  # still holding it
            assert proc.returncode in (0, 2), proc.stderr  # 2: `job get` of an id that does not exist
            # The command's own start-up (about 0.3 s) is what `unlocked` measured; the lock costs nothing.
            assert locked - unlocked < 1.0, f"{' '.join(args)} took {locked:.2f}s behind a write lock"
    finally:
        holder.terminate()
        holder.wait(10)
        assert holder.stdout is not None
        holder.stdout.close()
