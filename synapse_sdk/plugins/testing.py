"""A testing kit for plugin authors: run an action against a temporary embedded backend, read its run.

Example (``plugin/test_train.py``)::

    def test_train(synapse_run):
        run = synapse_run("train", {"epochs": 3})
        assert run.status == "SUCCEEDED"
        assert run.progress["training"]["percent"] == 100
        assert len(run.metric_values("training", "loss")) == 3

``synapse_run`` is a pytest fixture (registered by the ``pytest11`` entry point of synapse-plugin-sdk);
``run_action`` does the same without pytest. ``synapse_client`` is the platform client of the same
backend, to put a test's data there first.

Under the kit telemetry is strict: a misuse that production clamps or drops with a warning
(``set_progress(11, 10)``, level ``"NOTICE"``, a NaN metric) raises ``ValueError`` (``TypeError``
for a wrong type) where it happens, so the test fails instead of a ten-hour training going
unwatched. ``embedded_backend`` sets ``SYNAPSE_STRICT_TELEMETRY=1`` for its block.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from synapse_sdk.backend.schemas import LogEntry, RunRecord
from synapse_sdk.plugins.run.misuse import STRICT_ENV

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient

_REMOTE_SETTINGS = ("SYNAPSE_HOST", "SYNAPSE_ACCESS_TOKEN", "SYNAPSE_RAY_ADDRESS")


@dataclass(frozen=True)
class RecordedRun:
    """What a run recorded in the backend: status, result, logs, progress and metrics."""

    id: str
    status: str
    result: Any
    error: str | None
    logs: list[LogEntry]
    progress: dict[str, dict[str, float]]
    metrics: dict[str, dict[str, Any]]
    metric_history: list[dict[str, Any]]
    record: RunRecord
    exception: BaseException | None = None
    #: The run's working folder: what the action wrote (``self.run.path``).
    folder: Path | None = None

    @property
    def succeeded(self) -> bool:
        """True if the run ended SUCCEEDED."""
        return self.status == "SUCCEEDED"

    @property
    def messages(self) -> list[str]:
        """The text of every ``log_message`` call, in order."""
        return [entry.message for entry in self.logs if entry.message is not None]

    def events(self, name: str) -> list[Any]:
        """The data of every ``run.log(name, data)`` call, in order."""
        return [entry.data for entry in self.logs if entry.event == name]

    def metric_values(self, category: str, name: str) -> list[Any]:
        """Every value ``name`` took in ``category``, one per ``set_metrics`` call that set it."""
        return [
            row["values"][name]
            for row in self.metric_history
            if row["category"] == category and name in row["values"]
        ]


@contextmanager
def embedded_backend(home: str | Path | None = None) -> Iterator[Path]:
    """Point ``SYNAPSE_HOME`` at ``home`` (a new temporary folder if None) and make telemetry misuse
    raise (``SYNAPSE_STRICT_TELEMETRY=1``) for the block; not thread-safe."""
    if home is None:
        with (
            tempfile.TemporaryDirectory(prefix="synapse-test-") as scratch,
            embedded_backend(scratch) as folder,
        ):
            yield folder
        return
    saved = {key: os.environ.get(key) for key in ("SYNAPSE_HOME", STRICT_ENV, *_REMOTE_SETTINGS)}
    os.environ["SYNAPSE_HOME"] = str(home)
    os.environ[STRICT_ENV] = "1"
    for key in _REMOTE_SETTINGS:
        os.environ.pop(key, None)
    try:
        yield Path(home)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_action(
    plugin_dir: str | Path,
    action: str,
    params: dict[str, Any] | None = None,
    *,
    envs: dict[str, str] | None = None,
    home: str | Path | None = None,
    check: bool = True,
) -> RecordedRun:
    """Run ``action`` of the plugin in ``plugin_dir`` as ``synapse plugin run --debug`` does.

    Bad params raise ``ParamsError`` before anything runs. If the action fails its exception is
    raised when ``check`` is true; otherwise the failed run is returned with ``exception`` set.
    """
    from synapse_sdk.backend import get_backend
    from synapse_sdk.execution.local.inprocess import LocalExecutor
    from synapse_sdk.execution.runner import prepare
    from synapse_sdk.settings import Settings

    with embedded_backend(home) as folder:
        prepared = prepare(action, dict(params or {}), path=Path(plugin_dir), envs=envs, home=str(folder))
        failure: Exception | None = None
        try:
            LocalExecutor(Settings.from_env()).run(prepared, [])
        except Exception as exc:  # noqa: BLE001 - recorded, then raised or returned below
            failure = exc
        store = get_backend().runs
        run_id = prepared.invocation.run_id
        record = store.get_run(run_id)
        recorded = RecordedRun(
            id=run_id,
            status=record.status.value,
            result=record.result,
            error=record.error,
            logs=store.get_logs(run_id),
            progress=record.progress,
            metrics=record.metrics,
            metric_history=store.metric_history(run_id),
            record=record,
            exception=failure,
            folder=Path(record.extra["folder"]) if record.extra.get("folder") else None,
        )
    if failure is not None and check:
        raise failure
    return recorded


def find_plugin_root(start: str | Path) -> Path:
    """The nearest folder at or above ``start`` that holds a config.yaml."""
    path = Path(start).resolve()
    for folder in [path, *path.parents]:
        if (folder / "config.yaml").is_file():
            return folder
    raise FileNotFoundError(f"no config.yaml at or above {path}; tests must live inside a plugin folder")


@pytest.fixture
def synapse_run(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., RecordedRun]:
    """Run an action of the plugin this test file belongs to (or of ``plugin_dir``); each test gets its
    own backend."""

    def run(action: str, params: dict[str, Any] | None = None, *, plugin_dir: str | Path | None = None,
            envs: dict[str, str] | None = None, check: bool = True) -> RecordedRun:  # fmt: skip
        return run_action(plugin_dir or find_plugin_root(request.path), action, params, envs=envs,
                          home=tmp_path / "synapse-home", check=check)  # fmt: skip

    return run


@pytest.fixture
def synapse_client(tmp_path: Path) -> Iterator[BackendClient]:
    """The platform client of the backend ``synapse_run`` runs this test's actions against, to put data
    there first (``import_folder``, ``create_project``...) or read what the actions made."""
    from synapse_sdk.clients.backend import get_backend_client

    with embedded_backend(tmp_path / "synapse-home"):
        yield get_backend_client()
