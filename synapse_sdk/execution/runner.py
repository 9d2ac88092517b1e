"""Turn a ``synapse plugin run`` request into a validated invocation, then run or submit it."""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ParamsError
from synapse_sdk.execution.invocation import Invocation
from synapse_sdk.plugins.config import PluginConfig
from synapse_sdk.plugins.loader import find_plugin_dir, load_action_class

if TYPE_CHECKING:
    from synapse_sdk.backend.schemas import NewRun
    from synapse_sdk.plugins.categories.base import Action


@dataclass(frozen=True)
class Prepared:
    """A request checked at the door: plugin found, action known, params valid."""

    invocation: Invocation
    config: PluginConfig
    action_class: type[Action]

    def new_run(self, *, is_job: bool = False, extra: dict[str, Any] | None = None) -> NewRun:
        """The run record to create for this invocation (params and envs redacted, its folder named)."""
        from synapse_sdk.execution.lifecycle import new_run

        inv = self.invocation
        folder = inv.run_folder()
        if folder is not None:
            extra = {"folder": str(folder), **(extra or {})}
        return new_run(
            inv.run_id, inv.action, self.config, inv.params, inv.envs,
            category=self.action_class.category, is_job=is_job, extra=extra,
        )  # fmt: skip


def parse_params(text: str | None) -> dict[str, Any]:
    """Parse the PARAMS_JSON argument; it must be a JSON object."""
    if text is None or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParamsError(
            f"PARAMS_JSON: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; "
            """quote it for the shell, like '{"epochs": 3}'"""
        ) from None
    if not isinstance(value, dict):
        raise ParamsError(
            f"PARAMS_JSON: expected a JSON object like '{{\"epochs\": 3}}', got {type(value).__name__}"
        )
    return value


def resolve_plugin_dir(path: str | Path | None, plugin: str | None) -> Path:
    """The plugin folder for ``--path`` / the current folder, or ``--plugin code[@version]``."""
    if plugin:
        from synapse_sdk.packaging.publish import resolve_plugin_ref

        return resolve_plugin_ref(plugin)
    return find_plugin_dir(path)


def prepare(
    action: str,
    params: dict[str, Any],
    *,
    path: str | Path | None = None,
    plugin: str | None = None,
    run_id: str | None = None,
    envs: dict[str, str] | None = None,
    home: str | None = None,
    debug: bool = False,
    local_env: bool = True,
) -> Prepared:
    """Find the plugin, check the action and validate params, before anything is recorded.

    A published release (not under ``debug``) gets its local runtime env (built once, cached) and
    is then imported and validated only inside that env, by the worker. ``local_env=False`` (runs
    on Ray, which builds the env from ``get_runtime_env()``) imports it here as for ``debug``.
    """
    folder = resolve_plugin_dir(path, plugin)
    config = PluginConfig.load(folder)
    config.get_action(action)
    isolated = plugin and local_env and not debug
    python = _release_python(folder, config, home) if isolated else sys.executable
    if python == sys.executable:
        cls = load_action_class(folder, config, action)
        cls.validate_params(params)
    else:
        cls = _stand_in(config, action)
    invocation = Invocation(
        run_id=run_id or uuid.uuid4().hex[:16],
        plugin_path=str(folder),
        action=action,
        params=params,
        envs=dict(envs or {}),
        home=home,
        python=python,
    )
    return Prepared(invocation=invocation, config=config, action_class=cls)


def _release_python(folder: Path, config: PluginConfig, home: str | None) -> str:
    """The interpreter for a published release's env; this one for plugin folders."""
    from synapse_sdk.packaging.publish import is_release_dir, release_python
    from synapse_sdk.settings import Settings

    root = Path(home) if home else Settings.from_env().home
    return release_python(folder, config, root) if is_release_dir(folder, root) else sys.executable


def _stand_in(config: PluginConfig, action: str) -> type[Action]:
    """The category's base action (else ``Action``): metadata for the CLI without importing plugin code."""
    from synapse_sdk.errors import ActionNotFound
    from synapse_sdk.plugins.categories.base import Action
    from synapse_sdk.plugins.registry import get_action_class

    try:
        return get_action_class(config.category, action)
    except ActionNotFound:
        return Action
