"""Every key stays inside its storage's root: escapes are refused by every method, on every provider."""

from __future__ import annotations

import os

import pytest

from synapse_sdk.errors import PathOutsideRoot, StorageError
from synapse_sdk.storage import LocalConfig, get_storage

ESCAPES = {
    "parent": "../x",
    "absolute": "/etc/passwd",
    "climbs-back": "a/../../x",
    "backslash": "a\\b",
    "windows-parent": "..\\x",
    "nul": "a\0b",
    "empty": "",
    "dot": ".",
    "only-slashes": "//",
}


def calls(storage, key, tmp_path):
    source = tmp_path / "source.txt"
    source.write_bytes(b"x")
    return {
        "resolve": lambda: storage.resolve(key),
        "exists": lambda: storage.exists(key),
        "size": lambda: storage.size(key),
        "open_read": lambda: storage.open_read(key),
        "read_bytes": lambda: storage.read_bytes(key),
        "sha256": lambda: storage.sha256(key),
        "write": lambda: storage.write(key, b"x"),
        "put_file": lambda: storage.put_file(source, key),
        "delete": lambda: storage.delete(key),
        "url": lambda: storage.url(key),
    }


@pytest.mark.parametrize("key", ESCAPES.values(), ids=ESCAPES.keys())
def test_every_method_refuses_an_escaping_key(storage, key, tmp_path):
    for method, call in calls(storage, key, tmp_path).items():
        with pytest.raises(PathOutsideRoot) as info:
            call()
        message = str(info.value)
        assert message.startswith(f"storage {storage.name!r}: key {key!r}"), method
        assert "use a relative POSIX path inside the storage, like 'images/cat.jpg'" in message
        assert "\n" not in message
    assert list(storage.list()) == []


@pytest.mark.parametrize(
    "prefix", ["../", "/etc", "a/../..", "a\\b"], ids=["parent", "absolute", "climbs", "bs"]
)
def test_list_refuses_an_escaping_prefix(storage, prefix):
    with pytest.raises(PathOutsideRoot):
        storage.list(prefix)  # refused when called, before any iteration


def test_dot_dot_that_stays_inside_is_fine(storage):
    storage.write("a/../b.txt", b"x")
    assert list(storage.list()) == ["b.txt"]


def test_path_outside_root_is_a_storage_error_with_exit_code_2():
    assert issubclass(PathOutsideRoot, StorageError)
    assert PathOutsideRoot.exit_code == 2


@pytest.fixture
def local(tmp_path):
    """A local storage whose root holds links: one to a folder outside, one to a file outside, one inside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("do not read")
    root = tmp_path / "root"
    root.mkdir()
    (root / "inside.txt").write_text("fine")
    os.symlink(outside, root / "out-dir")
    os.symlink(outside / "secret.txt", root / "out-file")
    os.symlink(root / "inside.txt", root / "in-link")
    return get_storage(LocalConfig(root=str(root)), name="linked")


@pytest.mark.parametrize("key", ["out-dir/secret.txt", "out-file", "out-dir/new.txt", "out-dir"])
def test_a_link_that_leaves_the_root_is_refused(local, key, tmp_path):
    for method, call in calls(local, key, tmp_path).items():
        with pytest.raises(PathOutsideRoot, match=r"leads through a link to .*outside the root") as info:
            call()
        assert "replace the link" in str(info.value), method
    assert not (tmp_path / "outside" / "new.txt").exists()
    assert (tmp_path / "outside" / "secret.txt").read_text() == "do not read"


def test_a_link_inside_the_root_works_and_listing_skips_escaping_links(local):
    assert local.read_bytes("in-link") == b"fine"
    assert sorted(local.list()) == ["in-link", "inside.txt"]
    assert list(local.list(recursive=False)) == ["in-link", "inside.txt"]


def test_a_root_that_is_itself_a_link_is_fine(tmp_path):
    real = tmp_path / "real-root"
    real.mkdir()
    os.symlink(real, tmp_path / "root-link")
    storage = get_storage(LocalConfig(root=str(tmp_path / "root-link")), name="via-link")
    storage.write("a/b.txt", b"x")
    assert (real / "a" / "b.txt").read_bytes() == b"x"
    assert list(storage.list()) == ["a/b.txt"]
