"""``Invocation``: everything a worker needs to run one action, as a JSON-able record."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Invocation:
    """One request to run ``action`` of the plugin in ``plugin_path`` as run ``run_id``."""

    run_id: str
    plugin_path: str
    action: str
    params: dict[str, Any] = field(default_factory=dict)
    envs: dict[str, str] = field(default_factory=dict)
    home: str | None = None
    python: str = sys.executable
    #: The folder the user ran the command from: relative paths in params resolve against it.
    cwd: str = field(default_factory=os.getcwd)
    #: Which try of the run this is, when a supervisor records the run's tries (None: nobody does).
    attempt: int | None = None

    def to_json(self) -> str:
        """Serialise for a worker (never to a file others can read: params may hold secrets)."""
        return json.dumps(vars(self))  # the fields are JSON values already: no deep copy

    @classmethod
    def from_json(cls, text: str) -> Invocation:
        """Parse what ``to_json`` wrote."""
        return cls(**json.loads(text))

    @property
    def path(self) -> Path:
        """The plugin folder as a Path."""
        return Path(self.plugin_path)

    def run_folder(self) -> Path | None:
        """The run's working folder under the invocation's ``SYNAPSE_HOME`` (None: the environment's)."""
        from synapse_sdk.settings import Settings

        return Settings(home=Path(self.home)).runs_dir / self.run_id if self.home else None
