"""One contract for every ``Backend``: the same tests against the embedded store and over HTTP.

``embedded`` is an ``EmbeddedBackend`` on a fresh SQLite file; ``http`` an ``HttpBackend``
talking to a real ``synapse backend serve`` (one per module, so ids are unique per test).
"""

from __future__ import annotations

import time
import uuid

import pytest

from synapse_sdk.backend.http import HttpBackend
from synapse_sdk.backend.protocol import Backend
from synapse_sdk.backend.schemas import EventBatch, NewRelease, NewRun, RunStatus
from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.errors import ChecksumMismatch, PluginNotFound, ReleaseError, RunConflict, RunNotFound
from synapse_sdk.packaging.archive import build_archive
from synapse_sdk.packaging.checksum import sha256_bytes
from tests.servers import BackendServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = BackendServer(tmp_path_factory.mktemp("contract") / "home").start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "http"])
def backend(request, tmp_path):
    """The same contract, run against the SQLite store and against the HTTP client."""
    if request.param == "embedded":
        found: Backend = EmbeddedBackend(tmp_path / "contract.db", tmp_path / "archives")
    else:
        server = request.getfixturevalue("server")
        found = HttpBackend(server.url, server.token, retry_for=2.0)
    yield found
    found.close()


@pytest.fixture
def uid() -> str:
    """A prefix that keeps this test's run ids and plugin codes apart on the shared server."""
    return uuid.uuid4().hex[:8]


def archive_of(code: str, version: str, note: str = "") -> bytes:
    """A real release archive (the registry refuses anything else) whose config.yaml is the release's."""
    config = f"code: {code}\nversion: '{version}'\ncategory: neural_net\n# {note}\n"
    return build_archive(".", [], extra={"config.yaml": config.encode()})


def release(code: str, version: str, archive: bytes, source: str = "5" * 64) -> NewRelease:
    return NewRelease(
        code=code, version=version, name=code.title(), category="neural_net", config={"code": code},
        checksum=sha256_bytes(archive), source_checksum=source, size=len(archive),
    )  # fmt: skip


# -- runs -----------------------------------------------------------------------------------------


def test_run_store_methods_round_trip(backend):
    runs = backend.runs
    runs.create_run(NewRun(id="c0", action="other"))  # an older run, listed after c1
    record = runs.create_run(NewRun(id="c1", action="train", params={"epochs": 3}))
    assert record.status is RunStatus.PENDING
    assert runs.transition("c1", [RunStatus.PENDING], RunStatus.RUNNING, pid=123, started_at=time.time())
    assert not runs.transition("c1", [RunStatus.PENDING], RunStatus.RUNNING)
    runs.update("c1", pid_started="4242")
    assert runs.pid_started("c1") == "4242"
    now = time.time()
    runs.write_events(
        "c1",
        EventBatch(
            logs=[(now, "INFO", "one", None, None), (now, "INFO", None, "ckpt", {"path": "/m"})],
            progress={"training": (3, 3, now)},
            metrics=[(now, "training", {"loss": 0.25})],
            heartbeat=now,
        ),
    )
    assert runs.count_logs("c1") == 2
    first, second = runs.get_logs("c1")
    assert (first.message, second.event, second.data) == ("one", "ckpt", {"path": "/m"})
    assert runs.get_logs("c1", after=first.seq) == [second]
    assert runs.metric_history("c1", "training")[0]["values"] == {"loss": 0.25}
    runs.transition("c1", [RunStatus.RUNNING], RunStatus.SUCCEEDED, result={"ok": True})
    got = runs.get_run("c1")
    assert (got.status, got.result, got.progress["training"]["percent"]) == (
        RunStatus.SUCCEEDED, {"ok": True}, 100.0,
    )  # fmt: skip
    assert [r.id for r in runs.list_runs(status=RunStatus.SUCCEEDED)][0] == "c1"
    assert [r.id for r in runs.list_runs(limit=2)] == ["c1", "c0"]


def test_a_batch_with_a_start_mark_starts_a_pending_run_only(backend):
    runs = backend.runs
    assert runs.run_status("s1") is None
    runs.create_run(NewRun(id="s1", action="train"))
    assert runs.run_status("s1") is RunStatus.PENDING
    now = time.time()
    started = {"started_at": now, "heartbeat_at": now, "host": "worker-7", "pid": 4321}
    runs.write_events("s1", EventBatch(logs=[(now, "INFO", "hello", None, None)], started=started))
    got = runs.get_run("s1")
    assert (got.status, got.started_at, got.host, got.pid) == (RunStatus.RUNNING, now, "worker-7", 4321)
    assert runs.count_logs("s1") == 1  # the events of the batch are stored with it
    runs.transition("s1", [RunStatus.RUNNING], RunStatus.STOPPED)
    runs.write_events("s1", EventBatch(started={**started, "pid": 99}))  # a late mark changes nothing
    assert (runs.run_status("s1"), runs.get_run("s1").pid) == (RunStatus.STOPPED, 4321)


def test_a_run_may_be_created_in_another_status_and_its_id_is_taken_once(backend, uid):
    runs = backend.runs
    record = runs.create_run(NewRun(id=f"{uid}-r", action="serve", is_job=True, extra={"port": 8}),
                             RunStatus.RUNNING)  # fmt: skip
    assert (record.status, record.is_job, record.extra) == (RunStatus.RUNNING, True, {"port": 8})
    assert runs.get_run(f"{uid}-r").status is RunStatus.RUNNING
    with pytest.raises(RunConflict, match=f"a run with id '{uid}-r' exists already"):
        runs.create_run(NewRun(id=f"{uid}-r", action="serve"))


def test_metrics_progress_logs_filters_and_limits(backend, uid):
    runs = backend.runs
    run_id = f"{uid}-m"
    runs.create_run(NewRun(id=run_id, action="train"))
    runs.write_events(run_id, EventBatch(
        logs=[(float(i), "INFO", f"line {i}", None, None) for i in range(5)],
        progress={"training": (5, 20, 2.0), "eval": (1, 4, 2.0)},
        metrics=[(1.0, "training", {"loss": 0.9}), (2.0, "training", {"loss": 0.5, "acc": 0.7}),
                 (2.0, "eval", {"acc": 0.6})],
    ))  # fmt: skip
    runs.write_events(run_id, EventBatch(progress={"training": (10, 20, 3.0)}))
    record = runs.get_run(run_id)
    assert record.progress["training"] == {"current": 10, "total": 20, "percent": 50.0}
    assert record.metrics == {"training": {"loss": 0.5, "acc": 0.7}, "eval": {"acc": 0.6}}
    assert [h["values"].get("loss") for h in runs.metric_history(run_id)] == [0.9, 0.5, None]
    assert [h["category"] for h in runs.metric_history(run_id, "eval")] == ["eval"]
    assert [e.message for e in runs.get_logs(run_id, limit=2)] == ["line 0", "line 1"]
    assert runs.count_logs(run_id) == 5


def test_write_events_answers_whether_a_stop_was_requested(backend, uid):
    runs = backend.runs
    run_id = f"{uid}-stop"
    runs.create_run(NewRun(id=run_id, action="train"))
    assert runs.write_events(run_id, EventBatch(heartbeat=time.time())) is False
    runs.update(run_id, stop_requested=True)
    assert runs.write_events(run_id, EventBatch(heartbeat=time.time())) is True
    assert runs.get_run(run_id).stop_requested


@pytest.mark.parametrize(
    "batch",
    [
        EventBatch(logs=[(1.0, "INFO", "lost", None, None)], progress={"t": (1, 2, 1.0)}),
        EventBatch(metrics=[(1.0, "t", {"loss": 1.0})]),
        EventBatch(heartbeat=1.0),
        EventBatch(started={"started_at": 1.0, "pid": 7}),
    ],
    ids=["logs-and-progress", "metrics", "heartbeat", "start-mark"],
)
def test_events_of_a_run_that_does_not_exist_are_refused_and_not_stored(backend, uid, batch):
    runs = backend.runs
    run_id = f"{uid}-later"
    with pytest.raises(RunNotFound, match=f"no run or job with id '{run_id}'"):
        runs.write_events(run_id, batch)
    runs.create_run(NewRun(id=run_id, action="train"))  # created after: nothing of the batch is there
    record = runs.get_run(run_id)
    assert (record.status, record.progress, record.metrics, record.heartbeat_at, record.pid) == (
        RunStatus.PENDING, {}, {}, None, None,
    )  # fmt: skip
    assert (runs.count_logs(run_id), runs.metric_history(run_id)) == (0, [])


def test_writes_to_a_run_that_does_not_exist_are_run_not_found(backend, uid):
    runs = backend.runs
    ghost = f"{uid}-ghost"
    with pytest.raises(RunNotFound, match=f"no run or job with id '{ghost}'"):
        runs.update(ghost, pid=1)
    with pytest.raises(RunNotFound, match=f"no run or job with id '{ghost}'"):
        runs.transition(ghost, [RunStatus.PENDING], RunStatus.RUNNING)
    with pytest.raises(RunNotFound, match="synapse job list"):
        runs.get_run(ghost)
    with pytest.raises(RunNotFound, match=f"no run or job with id '{ghost}'"):
        runs.get_logs(ghost)
    assert runs.run_status(ghost) is None
    for read in (runs.pid_started, runs.count_logs, runs.metric_history):
        with pytest.raises(RunNotFound, match=f"no run or job with id '{ghost}'"):
            read(ghost)
    assert ghost not in [r.id for r in runs.list_runs(limit=1000)]


def test_a_transition_from_another_state_is_false_not_an_error(backend, uid):
    runs = backend.runs
    run_id = f"{uid}-t"
    runs.create_run(NewRun(id=run_id, action="train"))
    assert runs.transition(run_id, [RunStatus.PENDING, RunStatus.RUNNING], RunStatus.FAILED, error="boom")
    assert not runs.transition(run_id, [RunStatus.RUNNING], RunStatus.SUCCEEDED, result=1)
    record = runs.get_run(run_id)
    assert (record.status, record.error, record.result) == (RunStatus.FAILED, "boom", None)


# -- releases -------------------------------------------------------------------------------------


def test_a_release_is_stored_once_and_its_archive_fetched(backend, uid, tmp_path):
    releases = backend.releases
    code = f"p{uid}"
    one = archive_of(code, "1.0.0", "one")
    new = release(code, "1.0.0", one)
    record, created = releases.add_release(new, one)
    assert created
    assert (record.uri, record.checksum, record.size, record.config) == (
        f"{code}@1.0.0", new.checksum, len(one), {"code": code},
    )  # fmt: skip
    assert record.created_at > 0
    again, created = releases.add_release(new, one)
    assert (again, created) == (record, False)
    assert releases.find_release(code, "1.0.0") == record
    assert releases.find_release(code, "9.9.9") is None
    assert releases.get_release(code, "1.0.0") == record
    assert releases.fetch_archive(record, tmp_path / "cache").read_bytes() == one


def test_a_published_version_is_immutable(backend, uid):
    code = f"p{uid}"
    one, two = archive_of(code, "1.0.0", "one"), archive_of(code, "1.0.0", "two")
    backend.releases.add_release(release(code, "1.0.0", one), one)
    with pytest.raises(ReleaseError, match=f"{code}@1.0.0 is already published with different content"):
        backend.releases.add_release(release(code, "1.0.0", two, source="6" * 64), two)
    assert backend.releases.get_release(code, "1.0.0").checksum == sha256_bytes(one)


def test_an_archive_that_is_not_what_it_declares_is_refused(backend, uid):
    code = f"p{uid}"
    with pytest.raises(ChecksumMismatch, match="the uploaded archive has sha256"):
        backend.releases.add_release(release(code, "1.0.0", b"good"), b"evil")
    assert backend.releases.list_releases(code) == []


def test_newest_stable_release_and_what_is_not_found(backend, uid):
    releases = backend.releases
    code = f"p{uid}"
    for version in ("1.0.0", "1.10.0", "1.9.0", "2.0.0-rc.1"):
        archive = archive_of(code, version)
        releases.add_release(release(code, version, archive), archive)
    assert [r.version for r in releases.list_releases(code)] == ["2.0.0-rc.1", "1.10.0", "1.9.0", "1.0.0"]
    assert code in {r.code for r in releases.list_releases()}
    assert releases.get_release(code).version == "1.10.0"  # pre-releases only when nothing else
    with pytest.raises(PluginNotFound, match="published versions: 2.0.0-rc.1, 1.10.0, 1.9.0, 1.0.0"):
        releases.get_release(code, "3.0.0")
    with pytest.raises(PluginNotFound, match=f"plugin 'q{uid}' has no published release"):
        releases.get_release(f"q{uid}")
    assert releases.list_releases(f"q{uid}") == []
