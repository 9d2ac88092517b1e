"""An extracted release is checked against its manifest before each run: any later change stops it."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from synapse_sdk.backend import get_backend
from synapse_sdk.errors import ChecksumMismatch
from synapse_sdk.execution.runner import resolve_plugin_dir
from synapse_sdk.packaging.extract import remove_tree
from synapse_sdk.packaging.manifest import MANIFEST, problems, verify_release
from synapse_sdk.packaging.publish import install_release, publish, resolve_plugin_ref

CONFIG = """\
code: hello
name: Hello
version: 1.0.0
category: neural_net
actions:
  train:
    entrypoint: plugin.train.Train
    method: task
"""
TRAIN = """\
from synapse_sdk.plugins.categories.neural_net import TrainAction

class Train(TrainAction):
    def start(self):
        return {"answer": 42}
"""


@pytest.fixture
def release(make_plugin: Callable[..., Path]) -> Path:
    """The extracted folder of a freshly published ``hello@1.0.0``."""
    publish(make_plugin(CONFIG, {"train.py": TRAIN}), get_backend().releases)
    return resolve_plugin_ref("hello@1.0.0")


def writable(folder: Path, *paths: Path) -> None:
    """Give back write permission along ``paths`` (and their folders), as someone editing it would."""
    for path in paths:
        for part in [path, *path.parents]:
            if part == folder.parent:
                break
            if part.exists() and not part.is_symlink():
                part.chmod(part.stat().st_mode | stat.S_IWUSR)


def edit_same_size(folder: Path) -> None:
    file = folder / "plugin" / "train.py"
    writable(folder, file)
    file.write_text(TRAIN.replace("42", "43"))


def edit_longer(folder: Path) -> None:
    file = folder / "plugin" / "train.py"
    writable(folder, file)
    file.write_text(TRAIN + "import os; os.system('echo pwned')\n")


def add_file(folder: Path) -> None:
    writable(folder, folder / "plugin")
    (folder / "plugin" / "extra.py").write_text("x = 1\n")


def add_bytecode(folder: Path) -> None:
    cache = folder / "plugin" / "__pycache__"
    writable(folder, cache)
    (cache / "extra.cpython-311.pyc").write_bytes(b"\0" * 16)


def remove_file(folder: Path) -> None:
    writable(folder, folder / "plugin")
    (folder / "plugin" / "__init__.py").unlink()


def add_folder(folder: Path) -> None:
    writable(folder, folder / "plugin")
    (folder / "plugin" / "sub").mkdir()


def swap_for_link(folder: Path) -> None:
    file = folder / "plugin" / "train.py"
    writable(folder, file)
    file.unlink()
    file.symlink_to("/etc/hostname")


def add_fifo(folder: Path) -> None:
    writable(folder, folder / "plugin")
    os.mkfifo(folder / "plugin" / "pipe")


def drop_manifest(folder: Path) -> None:
    writable(folder, folder / MANIFEST)
    (folder / MANIFEST).unlink()


def garble_manifest(folder: Path) -> None:
    writable(folder, folder / MANIFEST)
    (folder / MANIFEST).write_text("{not json")


def rewrite_manifest_without_a_file(folder: Path) -> None:
    writable(folder, folder / MANIFEST)
    data = json.loads((folder / MANIFEST).read_text())
    del data["files"]["plugin/train.py"]
    (folder / MANIFEST).write_text(json.dumps(data))


def add_beside_manifest(folder: Path) -> None:
    writable(folder, folder / MANIFEST.parent)
    (folder / MANIFEST.parent / "extra.py").write_text("x = 1\n")


TAMPERING = {
    "edited-same-size": (edit_same_size, "'plugin/train.py' was changed"),
    "edited-longer": (edit_longer, "'plugin/train.py' was changed"),
    "file-added": (add_file, "'plugin/extra.py' was added"),
    "bytecode-added": (add_bytecode, "'plugin/__pycache__/extra.cpython-311.pyc' was added"),
    "file-removed": (remove_file, "'plugin/__init__.py' was removed"),
    "folder-added": (add_folder, "folder 'plugin/sub/' was added"),
    "file-swapped-for-a-link": (swap_for_link, "'plugin/train.py' is a link or special file"),
    "fifo-added": (add_fifo, "'plugin/pipe' is a link or special file"),
    "manifest-removed": (drop_manifest, f"it has no {MANIFEST}"),
    "manifest-garbled": (garble_manifest, f"{MANIFEST} is unreadable"),
    "manifest-rewritten": (rewrite_manifest_without_a_file, "'plugin/train.py' was added"),
    "file-added-beside-the-manifest": (add_beside_manifest, "'.synapse/extra.py' was added"),
}


def test_the_manifest_lists_every_file_with_its_sha256(release: Path) -> None:
    data = json.loads((release / MANIFEST).read_text())
    assert data["archive"] == release.name
    assert set(data["files"]) >= {"config.yaml", "plugin/__init__.py", "plugin/train.py"}
    assert any(name.startswith("plugin/__pycache__/train.") for name in data["files"])  # compiled already
    assert data["dirs"] == ["plugin", "plugin/__pycache__"]
    assert problems(release) == []
    assert not os.access(release / "plugin" / "train.py", os.W_OK) or os.geteuid() == 0  # read-only too


@pytest.mark.parametrize("tamper", list(TAMPERING))
def test_a_release_changed_after_extraction_is_refused_before_the_next_run(
    release: Path, tamper: str, synapse_home: Path
) -> None:
    change, says = TAMPERING[tamper]
    change(release)
    with pytest.raises(ChecksumMismatch) as info:
        resolve_plugin_ref("hello@1.0.0")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"release folder {release} differs from what was extracted: {says}")
    fix = f"chmod -R u+w {release} && rm -rf {release}"
    assert f"nothing was run; delete it ('{fix}') and run again" in message
    with pytest.raises(ChecksumMismatch):  # however the folder is reached: --path too
        resolve_plugin_dir(release, None, synapse_home)
    subprocess.run(["sh", "-c", fix], check=True)  # the fix the message gives
    assert resolve_plugin_ref("hello@1.0.0") == release  # extracted afresh from the verified archive
    assert problems(release) == []


def test_a_second_run_checks_the_folder_without_fetching_the_archive_again(release: Path) -> None:
    record = get_backend().releases.get_release("hello", "1.0.0")
    Path(record.archive).unlink()  # would fail a fetch: the extracted, verified folder is what runs
    assert install_release(record, get_backend().releases, release.parent.parent) == release


def test_a_release_folder_copied_under_another_checksum_is_refused(release: Path) -> None:
    other = release.with_name("f" * 64)
    shutil.copytree(release, other, symlinks=True)
    with pytest.raises(ChecksumMismatch, match=f"{MANIFEST} records archive {release.name[:12]}…, not ffff"):
        verify_release(other)
    remove_tree(other)


def test_a_link_in_place_of_the_release_folder_is_refused(release: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(release, elsewhere, symlinks=True)
    writable(release.parent, release)
    remove_tree(release)
    release.symlink_to(elsewhere)
    with pytest.raises(ChecksumMismatch, match="the release folder is itself a link"):
        resolve_plugin_ref("hello@1.0.0")
