"""Crafted release archives through every way in: nothing is written outside, each error is one line.

Four routes per archive of ``tests/packaging/crafted.py``: the embedded store's door
(``add_release``), extraction of an archive already sitting in the embedded store (planted as an
older SDK or a hand-edited database would have left it), the HTTP releases API's door on a real
``synapse backend serve``, and extraction on a client of that server of an archive planted in it.
"""

from __future__ import annotations

import os
import tarfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from synapse_sdk.backend import get_backend
from synapse_sdk.backend.http import HttpBackend
from synapse_sdk.backend.schemas import NewRelease, ReleaseRecord
from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.backend.store.releases import ReleaseStore
from synapse_sdk.errors import ReleaseError
from synapse_sdk.packaging.checksum import sha256_bytes
from synapse_sdk.packaging.publish import releases_dir, resolve_plugin_ref
from synapse_sdk.settings import Settings
from tests.conftest import run_cli
from tests.packaging.crafted import ATTACKS, Target, cve_2025_4517, escapes, prepare_outside
from tests.servers import BackendServer

ROUTES = ["store-door", "store-extract", "http-door", "http-extract"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = BackendServer(tmp_path_factory.mktemp("attacks") / "home").start()
    yield server
    server.stop()


def temp_dest(home: Path) -> Path:
    """A path as long as the temporary folder a release of ``home`` is extracted into."""
    return releases_dir(home) / f".tmp-{'0' * 64}-{'0' * 8}"


def metadata(code: str, archive: bytes) -> NewRelease:
    checksum = sha256_bytes(archive)
    return NewRelease(
        code=code, version="1.0.0", name="Evil", category="neural_net", config={}, checksum=checksum,
        source_checksum=checksum, size=len(archive),
    )  # fmt: skip


def plant(store: ReleaseStore, new: NewRelease, archive: bytes) -> ReleaseRecord:
    """Put an archive and its row into a store without the door's checks, as an older SDK would have."""
    store.archives_dir.mkdir(parents=True, exist_ok=True)
    path = store.archives_dir / f"{new.checksum}.tar.gz"
    path.write_bytes(archive)
    with store.db.write() as conn:
        conn.execute(
            "INSERT INTO plugin_releases (code, version, name, category, description, config, checksum,"
            " source_checksum, archive, size, lock, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (new.code, new.version, new.name, new.category, "", "{}", new.checksum, new.source_checksum,
             str(path), new.size, "", time.time()),
        )  # fmt: skip
    record = store.find_release(new.code, new.version)
    assert record is not None
    return record


def assert_one_line(exc: BaseException) -> None:
    text = str(exc)
    assert isinstance(exc, ReleaseError), f"{type(exc).__name__}: {text}"
    assert "\n" not in text and "\r" not in text, text
    assert len(text) < 600, text
    assert "Traceback" not in text


def attempt(route: str, new: NewRelease, archive: bytes, client_home: Path,
            request: pytest.FixtureRequest) -> tuple[Callable[[], object], list[Path]]:  # fmt: skip
    """What ``route`` does with the archive (set up, not yet called), and the extra folders to scan."""
    uri = f"{new.code}@1.0.0"
    if route == "store-door":
        return lambda: get_backend().releases.add_release(new, archive), []
    if route == "store-extract":
        plant(get_backend().releases, new, archive)
        return lambda: resolve_plugin_ref(uri), []
    server: BackendServer = request.getfixturevalue("server")
    if route == "http-door":
        backend = HttpBackend(server.url, server.token)
        request.addfinalizer(backend.close)
        return lambda: backend.releases.add_release(new, archive), [server.home]
    plant(EmbeddedBackend(server.home / "synapse.db").releases, new, archive)
    settings = Settings(home=client_home, host=server.url, access_token=server.token)
    return lambda: resolve_plugin_ref(uri, settings), [server.home]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_crafted_archive_is_refused_in_one_line_and_writes_nothing_outside(
    attack: str, route: str, tmp_path: Path, synapse_home: Path, request: pytest.FixtureRequest
) -> None:
    code = f"evil-{uuid.uuid4().hex[:8]}"
    client_home = tmp_path / "client-home"
    home = client_home if route == "http-extract" else synapse_home
    target = Target(code, temp_dest(home), prepare_outside(tmp_path / "outside"))
    archive = ATTACKS[attack](target)
    new = metadata(code, archive)
    call, more_roots = attempt(route, new, archive, client_home, request)
    with pytest.raises(ReleaseError) as info:
        call()
    assert_one_line(info.value)
    assert escapes(target, tmp_path, *more_roots) == []
    released = releases_dir(home)
    assert not released.exists() or list(released.iterdir()) == []  # no folder, no .tmp-* leftover
    if route == "store-door":
        assert get_backend().releases.find_release(code, "1.0.0") is None
    elif route == "http-door":
        server: BackendServer = request.getfixturevalue("server")
        assert not (server.home / "archives" / f"{new.checksum}.tar.gz").exists()


def test_the_cve_archive_is_a_real_attack_on_this_python(tmp_path: Path) -> None:
    """Control: the archive escapes ``tarfile``'s own ``data`` filter here, and passes the old pre-check."""
    dest = tmp_path / "ctl" / "dest"
    target = Target("evil", dest, prepare_outside(tmp_path / "outside"))
    archive = tmp_path / "cve.tar.gz"
    archive.write_bytes(cve_2025_4517(target))
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():  # what extraction checked before: every member "safe"
            tarfile.data_filter(member, str(dest))
        if hasattr(os.path, "ALLOW_MISSING"):
            pytest.skip("this Python has the CVE-2025-4517 fix: its data filter refuses the archive")
        dest.mkdir(parents=True)
        tar.extractall(dest, filter="data")
    assert (target.outside / "pwned.txt").is_file()  # the technique works on this machine's tarfile


@pytest.mark.parametrize("over_http", [False, True], ids=["embedded", "http"])
def test_plugin_run_of_the_cve_archive_exits_2_with_one_line(
    over_http: bool, tmp_path: Path, synapse_home: Path, request: pytest.FixtureRequest
) -> None:
    code = f"evil-{uuid.uuid4().hex[:8]}"
    env: dict[str, str] = {}
    home, roots = synapse_home, [tmp_path]
    if over_http:
        server: BackendServer = request.getfixturevalue("server")
        home = tmp_path / "client-home"
        env = {**server.client_env, "SYNAPSE_HOME": str(home)}
        store, roots = EmbeddedBackend(server.home / "synapse.db").releases, [tmp_path, server.home]
    else:
        store = get_backend().releases
    target = Target(code, temp_dest(home), prepare_outside(tmp_path / "outside"))
    archive = cve_2025_4517(target)
    plant(store, metadata(code, archive), archive)
    proc = run_cli("plugin", "run", "train", "--plugin", f"{code}@1.0.0", cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: "), proc.stderr
    assert "entry 'a' is unsafe (it is a symbolic link, which publish never creates)" in proc.stderr
    assert escapes(target, *roots) == []
    assert not releases_dir(home).exists() or list(releases_dir(home).iterdir()) == []
