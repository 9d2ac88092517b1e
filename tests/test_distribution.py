"""The SDK is installed, depended on and looked up under one distribution name of its own.

``synapse-sdk`` on PyPI is a different SDK; ours is ``synapse_sdk._version.DISTRIBUTION``. The
installed metadata, pyproject.toml, the generated plugins' pyproject and every metadata lookup
in the code must all use that one name.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest

import synapse_sdk
from synapse_sdk._version import DISTRIBUTION, __version__
from synapse_sdk.runtime_env import venv

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(synapse_sdk.__file__).resolve().parent
TEMPLATES_DIR = PACKAGE / "plugins" / "templates"
#: One per category template (``_base`` is the layer they share).
CATEGORIES = sorted(p.parent.name for p in TEMPLATES_DIR.glob("[!_]*/cookiecutter.json"))
#: The other SDK's name, in any spelling pip treats as the same (PEP 503 normalisation).
FOREIGN = "synapse-sdk"


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return normalise(re.split(r"[\s<>=!~;\[(@]", requirement.strip(), maxsplit=1)[0])


def test_the_name_is_ours_and_normalised() -> None:
    assert normalise(DISTRIBUTION) == DISTRIBUTION
    assert normalise(DISTRIBUTION) != FOREIGN


def test_the_installed_distribution_has_the_name_and_version() -> None:
    dist = importlib.metadata.distribution(DISTRIBUTION)
    assert normalise(dist.metadata["Name"]) == DISTRIBUTION
    assert dist.version == __version__
    assert "synapse" in {ep.name for ep in dist.entry_points if ep.group == "console_scripts"}


def test_the_installed_distribution_is_this_checkout() -> None:
    """Not a stale install of the old name shadowing the metadata the code reads."""
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution(FOREIGN)


def test_pyproject_names_the_distribution_and_its_own_extras() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert normalise(project["name"]) == DISTRIBUTION
    own = [r for reqs in project["optional-dependencies"].values() for r in reqs if "synapse" in r.lower()]
    assert own, "the dev extra installs the server and ray extras of this distribution"
    assert {requirement_name(r) for r in own} == {DISTRIBUTION}


@pytest.mark.parametrize("category", CATEGORIES)
def test_generated_plugins_depend_on_this_distribution(tmp_path: Path, category: str) -> None:
    from synapse_sdk.plugins.templates import render_plugin

    folder = render_plugin("dist-check", category, output_dir=tmp_path)
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    sdk = [r for r in project["dependencies"] if "synapse" in r.lower()]
    assert sdk == [f"{DISTRIBUTION}>={__version__}"]
    for line in (folder / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            assert requirement_name(line) not in {DISTRIBUTION, FOREIGN}


def test_no_template_file_names_the_other_sdk() -> None:
    pattern = re.compile(r"synapse[-_.]sdk(?![-_.\w])", re.IGNORECASE)
    for path in TEMPLATES_DIR.rglob("*"):
        if path.is_file() and path.suffix in {".toml", ".txt", ".md", ".cfg", ".json"}:
            for match in pattern.finditer(path.read_text()):
                # ``synapse_sdk`` the import package is fine; only the distribution name is not.
                assert match.group(0) == "synapse_sdk", f"{path}: {match.group(0)}"


def test_runtime_env_looks_up_the_same_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    real = importlib.metadata.requires

    def recording(name: str) -> list[str] | None:
        asked.append(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "requires", recording)
    found = venv.worker_requirements()
    assert asked == [DISTRIBUTION]
    declared = {r.replace(" ", "") for r in real(DISTRIBUTION) or [] if ";" not in r}
    assert set(found) <= declared, "read from the installed metadata, not the fallback"
    assert {requirement_name(r) for r in found} == set(venv.WORKER_DISTRIBUTIONS)
    assert venv.SDK_LINK_DIR == DISTRIBUTION


def test_package_code_spells_the_name_only_in_the_constant() -> None:
    """Every metadata lookup goes through ``DISTRIBUTION``: no other string literal names it.

    ``synapse_sdk`` (the import package, linked into release envs) is not a distribution name.
    """
    names = {DISTRIBUTION, FOREIGN}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "{{" in path.as_posix() or path == PACKAGE / "_version.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value != "synapse_sdk"
                and normalise(node.value.strip()) in names
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not offenders


def test_the_package_is_marked_typed() -> None:
    """PEP 561: type checkers use the annotations of an installed ``synapse_sdk``."""
    assert (PACKAGE / "py.typed").is_file()
