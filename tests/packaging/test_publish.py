"""Publishing to the embedded registry: immutable versions, validation at the door, verified fetches."""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from synapse_sdk.backend import get_backend
from synapse_sdk.errors import ChecksumMismatch, ConfigError, EnvBuildError, PluginNotFound, ReleaseError
from synapse_sdk.packaging.checksum import sha256_file
from synapse_sdk.packaging.publish import (
    install_release,
    plan_release,
    publish,
    releases_dir,
    resolve_plugin_ref,
)
from synapse_sdk.plugins.models import PluginRelease

CONFIG = """\
code: hello
name: Hello
version: "{version}"
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
def hello(make_plugin: Callable[..., Path]) -> Callable[..., Path]:
    def make(version: str = "1.0.0", source: str = TRAIN, name: str = "hello") -> Path:
        return make_plugin(CONFIG.format(version=version), {"train.py": source}, name=name)

    return make


def test_publish_stores_a_verifiable_release(hello: Callable[..., Path], synapse_home: Path) -> None:
    folder = hello()
    result = publish(folder, get_backend().releases)
    rec = result.record
    assert result.created
    assert (rec.code, rec.version, rec.category, rec.name) == ("hello", "1.0.0", "neural_net", "Hello")
    assert rec.config["actions"]["train"]["entrypoint"] == "plugin.train.Train"
    assert sha256_file(rec.archive) == rec.checksum
    assert Path(rec.archive).stat().st_size == rec.size
    assert rec.lock == ""  # no requirements: nothing to lock, the release runs in the current env
    with tarfile.open(rec.archive) as tar:
        assert sorted(tar.getnames()) == ["config.yaml", "plugin/__init__.py", "plugin/train.py"]
    release = PluginRelease.fetch("hello@1.0.0")
    assert release.checksum == rec.checksum and release.uri == "hello@1.0.0"
    assert release.path == releases_dir(synapse_home) / rec.checksum
    assert (release.path / "plugin" / "train.py").read_text() == TRAIN
    assert release.get_runtime_env()["requirements"] == []


def test_same_content_again_is_a_no_op_and_other_content_is_refused(hello: Callable[..., Path]) -> None:
    folder = hello()
    first = publish(folder, get_backend().releases)
    again = publish(folder, get_backend().releases)
    assert not again.created
    assert again.record == first.record
    (folder / "plugin" / "train.py").write_text(TRAIN.replace("42", "43"))
    with pytest.raises(ReleaseError, match=r"hello@1.0.0 is already published with different content.*bump"):
        publish(folder, get_backend().releases)
    assert get_backend().releases.get_release("hello", "1.0.0").checksum == first.record.checksum
    assert len(get_backend().releases.list_releases("hello")) == 1


def test_invalid_config_and_broken_entrypoint_are_refused_and_nothing_is_stored(
    make_plugin: Callable[..., Path], synapse_home: Path
) -> None:
    bad = make_plugin(CONFIG.format(version="1.0").replace("task", "jobs"), {"train.py": TRAIN})
    with pytest.raises(ConfigError) as info:
        publish(bad, get_backend().releases)
    assert "version: expected a semantic version like '1.0.0'" in str(info.value)
    assert "actions.train.method: expected one of job, task, restapi, got 'jobs'" in str(info.value)
    broken = make_plugin(CONFIG.format(version="1.0.0"), {"train.py": "import not_a_module\n"}, name="b")
    with pytest.raises(ConfigError, match=r"actions.train.entrypoint: cannot import 'plugin.train.Train'"):
        publish(broken, get_backend().releases)
    assert get_backend().releases.list_releases() == []
    assert not (synapse_home / "archives").exists()


def test_code_alone_resolves_the_newest_semantic_version(hello: Callable[..., Path]) -> None:
    for version in ("1.2.0", "1.10.0", "1.9.0", "2.0.0-rc.1"):
        publish(hello(version, name=f"hello-{version}"), get_backend().releases)
    assert get_backend().releases.get_release("hello").version == "1.10.0"
    path = resolve_plugin_ref("hello")
    assert "1.10.0" in (path / "config.yaml").read_text()
    with pytest.raises(
        PluginNotFound, match=r"'hello@3.0.0' is not published; published versions: 2.0.0-rc.1, 1.10.0, 1.9.0"
    ):
        get_backend().releases.get_release("hello", "3.0.0")
    with pytest.raises(
        PluginNotFound, match=r"plugin 'helo' has no published release \(did you mean 'hello'"
    ):
        resolve_plugin_ref("helo")


def test_tampered_archive_is_refused_before_extraction(
    hello: Callable[..., Path], synapse_home: Path
) -> None:
    rec = publish(hello(), get_backend().releases).record
    data = bytearray(Path(rec.archive).read_bytes())
    data[len(data) // 2] ^= 0xFF
    Path(rec.archive).write_bytes(bytes(data))
    with pytest.raises(
        ChecksumMismatch, match=r"hello@1.0.0 archive .*: sha256 is [0-9a-f]{64}, but the release"
    ):
        install_release(rec, get_backend().releases, synapse_home)
    assert not releases_dir(synapse_home).exists()


def test_dry_run_plan_lists_files_without_touching_the_registry(
    hello: Callable[..., Path], synapse_home: Path
) -> None:
    folder = hello()
    (folder / ".gitignore").write_text("notes.txt\n")
    (folder / "notes.txt").write_text("private")
    plan = plan_release(folder)
    assert plan.files == [".gitignore", "config.yaml", "plugin/__init__.py", "plugin/train.py"]
    assert len(plan.source_checksum) == 64
    assert not synapse_home.exists()
    assert publish(folder, get_backend().releases).record.source_checksum == plan.source_checksum


def test_requirements_are_locked_into_the_release(make_plugin: Callable[..., Path]) -> None:
    folder = make_plugin(CONFIG.format(version="1.0.0"), {"train.py": TRAIN})
    (folder / "requirements.txt").write_text("six>=1.16,<1.17  # pinned below by the lock\n")
    rec = publish(folder, get_backend().releases).record
    assert "six==1.16.0" in rec.lock.splitlines()
    with tarfile.open(rec.archive) as tar:
        lock = tar.extractfile("requirements.lock").read().decode()  # type: ignore[union-attr]
    assert lock == rec.lock
    release = PluginRelease.fetch("hello")
    env = release.get_runtime_env()
    assert env["requirements"] == ["six==1.16.0"] and env["locked"]


def test_a_requirement_missing_from_the_registry_fails_publish_naming_it(
    make_plugin: Callable[..., Path], synapse_home: Path
) -> None:
    folder = make_plugin(CONFIG.format(version="1.0.0"), {"train.py": TRAIN})
    (folder / "requirements.txt").write_text("synapse-no-such-package-4f2a9c==1.0\n")
    with pytest.raises(
        EnvBuildError, match=r"requirement 'synapse-no-such-package-4f2a9c' cannot be satisfied"
    ):
        publish(folder, get_backend().releases)
    assert get_backend().releases.list_releases() == []


RUNTIME_ENV_TRAIN = """\
from synapse_sdk.plugins.categories.neural_net import TrainAction

class Train(TrainAction):
    def get_runtime_env(self):
        env = super().get_runtime_env()
        env["env_vars"]["CUSTOM_VAR"] = "value"
        env["pip"]["packages"].append("six==1.16.0")
        return env

    def start(self):
        return {}
"""


def test_packages_added_by_get_runtime_env_are_locked_too(make_plugin: Callable[..., Path]) -> None:
    folder = make_plugin(CONFIG.format(version="1.0.0"), {"train.py": RUNTIME_ENV_TRAIN})
    plan = plan_release(folder)
    assert plan.extra_requirements == ["six==1.16.0"] and plan.needs_lock
    rec = publish(folder, get_backend().releases).record
    assert rec.lock.splitlines() == ["six==1.16.0"]
    assert PluginRelease.fetch("hello").runtime_env.requirements == ("six==1.16.0",)


def test_a_get_runtime_env_that_needs_a_run_is_refused_clearly(make_plugin: Callable[..., Path]) -> None:
    source = RUNTIME_ENV_TRAIN.replace('env["env_vars"]["CUSTOM_VAR"] = "value"', "self.run.log_message('x')")
    folder = make_plugin(CONFIG.format(version="1.0.0"), {"train.py": source})
    with pytest.raises(
        ReleaseError, match=r"actions.train: get_runtime_env\(\) failed without params or a run"
    ):
        publish(folder, get_backend().releases)
    assert get_backend().releases.list_releases() == []


def test_leftovers_of_interrupted_extractions_are_pruned_once_old(synapse_home: Path) -> None:
    import os

    from synapse_sdk.packaging.publish import prune_release_leftovers

    old = releases_dir(synapse_home) / ".tmp-abc-1234"
    fresh = releases_dir(synapse_home) / ".tmp-def-5678"  # maybe still being extracted
    for folder in (old, fresh):
        (folder / "plugin").mkdir(parents=True)
    os.utime(old, (1, 1))
    assert prune_release_leftovers(synapse_home) == [old]
    assert fresh.is_dir() and not old.exists()


@pytest.mark.parametrize(
    "name",
    ["odd\\name.txt", "line\nbreak.txt", "/".join(["d" * 200] * 6) + "/deep.txt"],
    ids=["backslash", "newline", "over-long-path"],
)
def test_a_file_extraction_would_refuse_is_refused_at_publish_naming_it(
    hello: Callable[..., Path], name: str
) -> None:
    folder = hello()
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("x")
    with pytest.raises(ReleaseError, match=r"cannot be packaged \(.*\); rename it or list it in") as info:
        plan_release(folder)
    assert "\n" not in str(info.value)
    assert get_backend().releases.list_releases() == []
