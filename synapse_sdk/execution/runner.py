"""Turn a ``synapse plugin run`` request into a validated invocation, then run or submit it."""

from __future__ import annotations

import json
import math
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ParamsError
from synapse_sdk.execution.invocation import Invocation
from synapse_sdk.plugins.config import PluginConfig, one_line
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


#: Bounds of the PARAMS_JSON argument: past them it is refused in one line, never half-processed.
MAX_PARAMS_CHARS = 1_000_000
MAX_PARAMS_DEPTH = 64
MAX_INT_DIGITS = 1000
_EXAMPLE = """like '{"epochs": 3}'"""


class _Refused(Exception):
    """A problem found while parsing PARAMS_JSON, raised out of a ``json.loads`` hook."""


def parse_params(text: str | None) -> dict[str, Any]:
    """Parse the PARAMS_JSON argument; it must be a JSON object of bounded size and depth.

    Refused with a one-line ``ParamsError``: invalid JSON, anything but an object, more than
    ``MAX_PARAMS_CHARS`` characters or ``MAX_PARAMS_DEPTH`` levels, an integer of more than
    ``MAX_INT_DIGITS`` digits, NaN or Infinity (not JSON), a key given twice, and text that is not
    Unicode (a lone surrogate such as ``"\\ud800"``).
    """
    if text is None or not text.strip():
        return {}
    if len(text) > MAX_PARAMS_CHARS:
        raise ParamsError(
            f"PARAMS_JSON: {len(text):,} characters, more than the {MAX_PARAMS_CHARS:,} allowed; "
            """pass large inputs as a file path, like '{"dataset_path": "/data/train"}'"""
        )
    try:
        value = json.loads(
            text, object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite,
            parse_int=_bounded_int,
        )  # fmt: skip
    except json.JSONDecodeError as exc:
        raise ParamsError(
            f"PARAMS_JSON: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; "
            f"quote it for the shell, {_EXAMPLE}"
        ) from None
    except _Refused as exc:
        raise ParamsError(f"PARAMS_JSON: {exc}") from None
    except RecursionError:
        raise ParamsError(_too_deep()) from None
    if not isinstance(value, dict):
        raise ParamsError(f"PARAMS_JSON: expected a JSON object {_EXAMPLE}, got {type(value).__name__}")
    _check_tree(value)
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) < len(pairs):
        twice = next(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        raise _Refused(f"key {_clip(twice)!r} is given twice; keep one")
    return value


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number; use a finite number or null")


def _finite(literal: str) -> float:
    number = float(literal)
    if math.isinf(number):
        raise _Refused(f"{_clip(literal)} is too large for a float; use a finite number")
    return number


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(
            f"an integer of {len(literal.lstrip('-')):,} digits; at most {MAX_INT_DIGITS} are allowed"
        )
    return int(literal)


def _too_deep() -> str:
    return f"PARAMS_JSON: nested more than {MAX_PARAMS_DEPTH} levels deep; flatten it, {_EXAMPLE}"


def _check_tree(value: dict[str, Any]) -> None:
    """Depth and text of parsed params, walked without recursion."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "params")]
    while stack:
        item, depth, where = stack.pop()
        if depth > MAX_PARAMS_DEPTH:
            raise ParamsError(_too_deep())
        if isinstance(item, dict):
            for key, sub in item.items():
                _check_text(key, f"a key of {where}")
                stack.append((sub, depth + 1, f"{where}.{key}"))
        elif isinstance(item, list):
            stack.extend((sub, depth + 1, f"{where}[{i}]") for i, sub in enumerate(item))
        elif isinstance(item, str):
            _check_text(item, where)


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ParamsError(
            f"PARAMS_JSON: {_clip(one_line(where))} holds {text[exc.start]!r}, half of a UTF-16 surrogate "
            "pair and not a character; send the whole character (or its pair of \\u escapes)"
        ) from None


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def resolve_plugin_dir(path: str | Path | None, plugin: str | None, home: str | Path | None = None) -> Path:
    """The plugin folder for ``--path`` / the current folder, or ``--plugin code[@version]``.

    A folder inside ``SYNAPSE_HOME/releases`` is checked against its release's manifest either way
    (``ChecksumMismatch`` if a file in it was changed after extraction).
    """
    from synapse_sdk.packaging.publish import resolve_plugin_ref, verify_if_release
    from synapse_sdk.settings import Settings

    if plugin:
        return resolve_plugin_ref(plugin)  # verifies the release it resolves to
    return verify_if_release(find_plugin_dir(path), Path(home) if home else Settings.from_env().home)


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
    folder = resolve_plugin_dir(path, plugin, home)
    config = PluginConfig.load(folder)
    config.get_action(action)
    isolated = plugin and local_env and not debug
    invocation = Invocation(
        run_id=run_id or uuid.uuid4().hex[:16],
        plugin_path=str(folder),
        action=action,
        params=params,
        envs=dict(envs or {}),
        home=home,
    )
    if isolated:
        stand_in = Prepared(invocation=invocation, config=config, action_class=_stand_in(config, action))
        python = _release_python(folder, config, home, stand_in, is_job=run_id is not None)
        if python != sys.executable:
            from dataclasses import replace

            return replace(stand_in, invocation=replace(invocation, python=python))
    cls = load_action_class(folder, config, action)
    cls.validate_params(params)
    return Prepared(invocation=invocation, config=config, action_class=cls)


def _release_python(
    folder: Path, config: PluginConfig, home: str | None, prepared: Prepared, *, is_job: bool
) -> str:
    """The interpreter for a published release's env; this one for plugin folders. A build of the
    env is a phase of the run (:mod:`synapse_sdk.execution.environment`), its log kept in the
    run's folder when it fails."""
    from dataclasses import replace

    from synapse_sdk.packaging.publish import is_release_dir, release_python
    from synapse_sdk.runtime_env.spec import RuntimeEnvSpec
    from synapse_sdk.runtime_env.venv import needs_build
    from synapse_sdk.settings import Settings

    settings = Settings.from_env()
    root = Path(home) if home else settings.home
    if not is_release_dir(folder, root):
        return sys.executable
    if not needs_build(RuntimeEnvSpec.from_plugin(folder, config), root):
        return release_python(folder, config, root)
    from synapse_sdk.backend import get_backend
    from synapse_sdk.execution.environment import BUILD_LOG, EnvPhase

    runs = get_backend(replace(settings, home=root)).runs
    phase = EnvPhase(runs, lambda: prepared.new_run(is_job=is_job), config.uri)
    run_folder = Settings(home=root).runs_dir / prepared.invocation.run_id
    return release_python(folder, config, root, observer=phase, build_log=run_folder / BUILD_LOG)


def _stand_in(config: PluginConfig, action: str) -> type[Action]:
    """The category's base action (else ``Action``): metadata for the CLI without importing plugin code."""
    from synapse_sdk.errors import ActionNotFound
    from synapse_sdk.plugins.categories.base import Action
    from synapse_sdk.plugins.registry import get_action_class

    try:
        return get_action_class(config.category, action)
    except ActionNotFound:
        return Action
