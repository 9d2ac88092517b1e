"""The folder an export writes: a new one per export (``name``, ``name(1)``...), or, resumed, the last.

``ExportFolders`` is a part of ``BaseExporter``: it picks the export folder, and checks that a
resumed export is asked the same as when it started (its manifest's ``fingerprint``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import UsageError
from synapse_sdk.plugins.categories.export.manifest import (
    MANIFEST_NAME,
    ManifestState,
    parse_manifest,
    read_manifest,
)

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.export.output import Destination

#: Params that do not change what an export writes (left out of the resume check): an export
#: killed with one ``num_shards`` may resume with another.
_NOT_CONTENT = frozenset({"name", "resume", "dry_run", "num_shards"})


class ExportFolders:
    """Picks the export folder under ``path_root`` (see the module docstring)."""

    params: dict[str, Any]
    path_root: Path
    destination: Destination | None
    run: Any

    def fingerprint(self) -> dict[str, Any]:
        """What a resumed export must have been asked the same: the exporter and its params."""
        params = {k: v for k, v in self.params.items() if k not in _NOT_CONTENT}
        if isinstance(params.get("extra_params"), dict):
            params["extra_params"] = {
                k: v for k, v in params["extra_params"].items() if k not in _NOT_CONTENT
            }
        return {
            "exporter": f"{type(self).__module__}.{type(self).__qualname__}",
            "params": json.loads(json.dumps(params, sort_keys=True, default=str)),
        }

    # -- folders ----------------------------------------------------------------------------------

    def _create_unique_export_path(self, base_name: str) -> Path:
        """``path_root/base_name``, or ``base_name(1)``, ``(2)``... if taken; created empty."""
        while True:
            path = self.path_root / self._free_name(base_name)
            try:
                path.mkdir(parents=True)
            except FileExistsError:  # another export took it meanwhile
                continue
            return path

    def _free_name(self, base_name: str) -> str:
        name, counter = base_name, 1
        while self._taken(name):
            name, counter = f"{base_name}({counter})", counter + 1
        return name

    def _taken(self, name: str) -> bool:
        if self.destination is not None:
            return self.destination.taken(name)
        return (self.path_root / name).exists()

    def _latest(self, base_name: str) -> str | None:
        """The newest export folder of ``base_name`` (``name(2)`` after ``name(1)``), or None."""
        latest, name, counter = None, base_name, 1
        while self._taken(name):
            latest, name, counter = name, f"{base_name}({counter})", counter + 1
        return latest

    def _where(self, export_path: Path) -> str:
        if self.destination is not None:
            return self.destination.where(export_path.name)
        return str(export_path)

    def _export_folder(self) -> tuple[Path, ManifestState | None]:
        """The folder to export into, and the manifest of the export it resumes (None: a new one)."""
        base = self.params["name"]
        if self.params.get("resume"):
            latest = self._latest(base)
            if latest is not None:
                path = self.path_root / latest
                state = self._read_state(path)
                if state is None:
                    raise UsageError(
                        f"params.resume: {self._where(path)} has no export manifest to resume from; "
                        "drop resume to make a new export beside it"
                    )
                self._check_fingerprint(state, path)
                path.mkdir(parents=True, exist_ok=True)
                return path, state
            self.run.log_message(f"Nothing to resume: no export named {base!r} yet; starting one")
        return self._create_unique_export_path(base), None

    def _read_state(self, path: Path) -> ManifestState | None:
        state = read_manifest(path)
        if state is None and self.destination is not None and self.destination.is_remote:
            raw = self.destination.read_published(path.name, MANIFEST_NAME)
            state = parse_manifest(raw) if raw is not None else None
            if state is not None and state.done is None:
                raise UsageError(
                    f"params.resume: {self._where(path)} was left unfinished on another machine (its "
                    "staging folder is not here); drop resume to make a new export"
                )
        return state

    def _check_fingerprint(self, state: ManifestState, path: Path) -> None:
        before = state.header.get("fingerprint") or {}
        now = self.fingerprint()
        if before == now:
            return
        old, new = before.get("params") or {}, now["params"]
        changed = sorted(k for k in {*old, *new} if old.get(k) != new.get(k))
        if before.get("exporter") != now["exporter"]:
            changed.insert(0, "the exporter class")
        raise UsageError(
            f"params.resume: {self._where(path)} was exported with other params ({', '.join(changed)}); "
            "resume with the same params, or drop resume to make a new export"
        )
