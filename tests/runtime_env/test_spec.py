"""``RuntimeEnvSpec``: read from a plugin folder, keyed by requirement content."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from synapse_sdk.runtime_env.spec import RuntimeEnvSpec

CONFIG = """\
code: env-spec
name: Env spec
version: 1.0.0
category: neural_net
package_manager: {manager}
actions:
  train:
    entrypoint: plugin.train.Train
"""


def test_spec_reads_requirements_and_the_spec_defaults(make_plugin: Callable[..., Path]) -> None:
    folder = make_plugin(CONFIG.format(manager="uv"))
    (folder / "requirements.txt").write_text("# tools\nsix==1.16.0  # six\n\npackaging>=23\n")
    spec = RuntimeEnvSpec.from_plugin(folder)
    assert spec.requirements == ("six==1.16.0", "packaging>=23")
    assert (spec.package_manager, spec.options, spec.locked) == ("uv", ("--no-cache",), False)
    (folder / "requirements.lock").write_text("packaging==24.0\n    # via -r requirements.txt\nsix==1.16.0\n")
    locked = RuntimeEnvSpec.from_plugin(folder)
    assert locked.requirements == ("packaging==24.0", "six==1.16.0") and locked.locked


def test_key_is_the_content_not_the_file(make_plugin: Callable[..., Path]) -> None:
    a = make_plugin(CONFIG.format(manager="uv"), name="a")
    b = make_plugin(CONFIG.format(manager="uv"), name="b")
    (a / "requirements.txt").write_text("six==1.16.0\npackaging==24.0\n")
    (b / "requirements.lock").write_text(
        "# a lock, other order, comments\npackaging==24.0\nsix==1.16.0  # via\n"
    )
    key_a, key_b = RuntimeEnvSpec.from_plugin(a).key(), RuntimeEnvSpec.from_plugin(b).key()
    assert key_a == key_b
    (b / "requirements.lock").write_text("packaging==24.0\nsix==1.17.0\n")
    assert RuntimeEnvSpec.from_plugin(b).key() != key_a
    pip = make_plugin(CONFIG.format(manager="pip"), name="c")
    (pip / "requirements.txt").write_text("six==1.16.0\npackaging==24.0\n")
    assert RuntimeEnvSpec.from_plugin(pip).key() != key_a
    assert RuntimeEnvSpec.from_plugin(a).key(python="cpython-3.12.0") != key_a


def test_no_requirements_is_empty(make_plugin: Callable[..., Path]) -> None:
    folder = make_plugin(CONFIG.format(manager="pip"))
    (folder / "requirements.txt").write_text("# nothing yet\n")
    assert RuntimeEnvSpec.from_plugin(folder).is_empty
