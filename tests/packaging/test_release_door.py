"""The registry's door, embedded and over HTTP: an upload must be a release archive of what its metadata says.

And the HTTP release client: a checksum names a file only if it is one, and downloaded bytes
reach their final name only once they hash to it.
"""

from __future__ import annotations

import uuid

import pytest

from synapse_sdk.backend import get_backend
from synapse_sdk.backend.http import HttpBackend
from synapse_sdk.backend.schemas import NewRelease, ReleaseRecord
from synapse_sdk.errors import ChecksumMismatch, ReleaseError, UnsafeArchive
from synapse_sdk.packaging.archive import build_archive
from synapse_sdk.packaging.checksum import require_sha256, sha256_bytes
from synapse_sdk.packaging.publish import install_release, releases_dir
from tests.servers import BackendServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = BackendServer(tmp_path_factory.mktemp("door") / "home").start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "http"])
def registry(request):
    """The releases resource of the embedded store, or of a real ``synapse backend serve``."""
    if request.param == "embedded":
        yield get_backend().releases
        return
    server: BackendServer = request.getfixturevalue("server")
    with HttpBackend(server.url, server.token) as backend:
        yield backend.releases


def config_yaml(code: str, version: str = "1.0.0", category: str = "neural_net") -> bytes:
    return f"code: {code}\nname: X\nversion: '{version}'\ncategory: {category}\nactions: {{}}\n".encode()


def release_of(code: str, archive: bytes, version: str = "1.0.0", category: str = "neural_net") -> NewRelease:
    checksum = sha256_bytes(archive)
    return NewRelease(
        code=code, version=version, name="X", category=category, config={}, checksum=checksum,
        source_checksum=checksum, size=len(archive),
    )  # fmt: skip


@pytest.fixture
def code() -> str:
    return f"door-{uuid.uuid4().hex[:8]}"


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_a_release_archive_of_what_the_metadata_says_is_stored(registry, code, tmp_path):
    archive = build_archive(tmp_path, [], extra={"config.yaml": config_yaml(code)})
    record, created = registry.add_release(release_of(code, archive), archive)
    assert created and record.checksum == sha256_bytes(archive)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"just some bytes, not an archive", "not a readable tar.gz or zip archive (neither a tar"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 40, "not a readable tar.gz or zip archive"),
        (b"", "not a readable tar.gz or zip archive"),
    ],
    ids=["text", "broken-gzip", "empty"],
)
def test_a_non_archive_is_refused(registry, code, data, says):
    with pytest.raises(ReleaseError) as info:
        registry.add_release(release_of(code, data), data)
    assert f"{code}@1.0.0: the uploaded archive: {says}" in one_line(info)
    assert registry.find_release(code, "1.0.0") is None


@pytest.mark.parametrize(
    ("metadata", "says"),
    [
        ({"code": "other-code"}, "code 'CODE' but the release metadata code 'other-code'"),
        ({"version": "2.0.0"}, "version '1.0.0' but the release metadata version '2.0.0'"),
        ({"category": "export"}, "category 'neural_net' but the release metadata category 'export'"),
    ],
    ids=["code", "version", "category"],
)
def test_an_archive_whose_config_disagrees_with_the_metadata_is_refused(registry, code, tmp_path, metadata,
                                                                        says):  # fmt: skip
    archive = build_archive(tmp_path, [], extra={"config.yaml": config_yaml(code)})
    new = release_of(metadata.get("code", code), archive, metadata.get("version", "1.0.0"),
                     metadata.get("category", "neural_net"))  # fmt: skip
    with pytest.raises(ReleaseError) as info:
        registry.add_release(new, archive)
    assert f"its config.yaml has {says.replace('CODE', code)}" in one_line(info)
    assert "publish with 'synapse plugin publish'" in str(info.value)
    assert registry.find_release(new.code, new.version) is None


def test_an_archive_without_a_config_or_with_a_broken_one_is_refused(registry, code, tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    bare = build_archive(tmp_path, ["a.py"])
    with pytest.raises(ReleaseError, match="the uploaded archive has no config.yaml at its top"):
        registry.add_release(release_of(code, bare), bare)
    nested = build_archive(tmp_path, [], extra={"plugin/config.yaml": config_yaml(code)})
    with pytest.raises(ReleaseError, match="has no config.yaml at its top"):
        registry.add_release(release_of(code, nested), nested)
    listy = build_archive(tmp_path, [], extra={"config.yaml": b"- not\n- a mapping\n"})
    with pytest.raises(ReleaseError, match="its config.yaml is not a YAML mapping"):
        registry.add_release(release_of(code, listy), listy)
    assert registry.list_releases(code) == []


def test_an_unsafe_archive_is_refused_at_the_door_naming_the_member(registry, code, tmp_path):
    from tests.packaging.crafted import Target, cve_2025_4517, prepare_outside

    target = Target(code, temp := tmp_path / "x" / "y", prepare_outside(tmp_path / "outside"))
    archive = cve_2025_4517(target)
    with pytest.raises(UnsafeArchive) as info:
        registry.add_release(release_of(code, archive), archive)
    assert "entry 'a' is unsafe (it is a symbolic link, which publish never creates)" in one_line(info)
    assert not temp.exists()


BAD_CHECKSUMS = ["../../../outside/evil", "a" * 63, "A" * 64, "g" * 64, "", "a" * 64 + "/x", "a" * 64 + "\n"]
BAD_IDS = ["dotdot", "short", "uppercase", "not-hex", "empty", "slash", "newline"]


@pytest.mark.parametrize("checksum", BAD_CHECKSUMS, ids=BAD_IDS)
def test_require_sha256_refuses_anything_but_64_lowercase_hex(checksum):
    with pytest.raises(ReleaseError, match=r"is not a sha256 checksum \(64 lowercase hex") as info:
        require_sha256(checksum, "x@1.0.0: checksum")
    assert "\n" not in str(info.value)
    assert require_sha256("0" * 64, "x") == "0" * 64


def record_with(server_record: ReleaseRecord, checksum: str) -> ReleaseRecord:
    return server_record.model_copy(update={"checksum": checksum})


@pytest.fixture
def published(server, code, tmp_path) -> ReleaseRecord:
    archive = build_archive(tmp_path, [], extra={"config.yaml": config_yaml(code)})
    with HttpBackend(server.url, server.token) as backend:
        record, _ = backend.releases.add_release(release_of(code, archive), archive)
    return record


@pytest.mark.parametrize("checksum", BAD_CHECKSUMS, ids=BAD_IDS)
def test_the_http_client_refuses_a_bad_checksum_before_naming_a_file(server, published, checksum, tmp_path):
    cache = tmp_path / "home" / "downloads"
    with HttpBackend(server.url, server.token) as backend:
        registry = backend.releases
        with pytest.raises(ReleaseError, match="is not a sha256 checksum") as info:
            registry.fetch_archive(record_with(published, checksum), cache)
        assert "\n" not in str(info.value)
        with pytest.raises(ReleaseError, match="is not a sha256 checksum"):
            install_release(record_with(published, checksum), registry, tmp_path / "home")
    assert not (tmp_path / "home").exists()  # no download, no release folder: nothing was written
    assert not (tmp_path / "outside").exists()


def test_the_http_client_verifies_the_bytes_before_they_get_their_final_name(server, published, tmp_path):
    cache = tmp_path / "home" / "downloads"
    wrong = sha256_bytes(b"some other archive")
    with HttpBackend(server.url, server.token) as backend:
        with pytest.raises(ChecksumMismatch) as info:
            backend.releases.fetch_archive(record_with(published, wrong), cache)
        assert f"sha256 is {published.checksum}" in one_line(info)
        assert f"but the release records {wrong}; nothing was saved" in str(info.value)
        assert not cache.exists() or list(cache.iterdir()) == []  # neither the final name nor a temp file
        path = backend.releases.fetch_archive(published, cache)
    assert path == cache / f"{published.checksum}.tar.gz"
    assert sha256_bytes(path.read_bytes()) == published.checksum
    assert [p.name for p in cache.iterdir()] == [path.name]


def test_the_embedded_store_refuses_a_bad_checksum_too(code, tmp_path, synapse_home):
    archive = build_archive(tmp_path, [], extra={"config.yaml": config_yaml(code)})
    record, _ = get_backend().releases.add_release(release_of(code, archive), archive)
    with pytest.raises(ReleaseError, match="is not a sha256 checksum"):
        install_release(record_with(record, "../../evil"), get_backend().releases, synapse_home)
    assert not releases_dir(synapse_home).exists()
