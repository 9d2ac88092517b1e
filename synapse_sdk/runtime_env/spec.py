"""``RuntimeEnvSpec``: a plugin's requirements (its lock when published), package manager and options.

The same spec drives the local venv cache (``runtime_env.venv``) and the Ray ``runtime_env``.
Its ``key`` is the hash of the requirement *content*, never of a file name.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from synapse_sdk.plugins.config import PluginConfig

LOCK_FILE = "requirements.lock"
REQUIREMENTS_FILE = "requirements.txt"


def requirement_lines(text: str) -> list[str]:
    """Requirement lines of a requirements file: comments, blanks and pip's ``# via`` notes dropped."""
    lines = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def python_tag(python: str | None = None) -> str:
    """``cpython-3.11.7`` for the current interpreter (envs are not shared across interpreters)."""
    if python is None:
        info = sys.version_info
        return f"{sys.implementation.name}-{info.major}.{info.minor}.{info.micro}"
    return python


@dataclass(frozen=True)
class RuntimeEnvSpec:
    """What a plugin's environment needs; empty ``requirements`` means: run in the current interpreter."""

    requirements: tuple[str, ...] = ()
    package_manager: str = "pip"
    options: tuple[str, ...] = field(default_factory=tuple)
    locked: bool = False

    @classmethod
    def from_plugin(cls, path: str | Path, config: PluginConfig | None = None) -> RuntimeEnvSpec:
        """Read a plugin folder: ``requirements.lock`` if present (published), else requirements.txt."""
        path = Path(path)
        config = config or PluginConfig.load(path)
        lock, reqs = path / LOCK_FILE, path / REQUIREMENTS_FILE
        source = lock if lock.is_file() else reqs
        lines = requirement_lines(source.read_text(encoding="utf-8")) if source.is_file() else []
        return cls(
            requirements=tuple(lines),
            package_manager=config.package_manager,
            options=tuple(config.package_manager_options),
            locked=source is lock,
        )

    @property
    def is_empty(self) -> bool:
        """No requirements: the fast path, the current interpreter runs the action."""
        return not self.requirements

    def key(self, python: str | None = None, extra: tuple[str, ...] = ()) -> str:
        """sha256 of (sorted requirement content, package manager, options, python, ``extra``)."""
        data = {
            "requirements": sorted(self.requirements),
            "package_manager": self.package_manager,
            "options": list(self.options),
            "python": python_tag(python),
            "extra": sorted(extra),
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def requirements_text(self) -> str:
        """The requirements as a file's content."""
        return "".join(f"{line}\n" for line in self.requirements)

    def to_dict(self) -> dict[str, object]:
        """A JSON-able view: requirements, package_manager, package_manager_options, locked."""
        return {
            "requirements": list(self.requirements),
            "package_manager": self.package_manager,
            "package_manager_options": list(self.options),
            "locked": self.locked,
        }
