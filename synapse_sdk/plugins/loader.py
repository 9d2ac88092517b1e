"""Load a plugin from its folder: config plus entrypoint imports, every problem reported at once."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ConfigError, PluginNotFound
from synapse_sdk.plugins.categories import METHODS
from synapse_sdk.plugins.config import CONFIG_FILE, PluginConfig

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.base import Action


@dataclass(frozen=True)
class LoadedPlugin:
    """A validated plugin: its folder, its config and the class of each action."""

    path: Path
    config: PluginConfig
    actions: dict[str, type[Action]]


def find_plugin_dir(path: str | Path | None = None) -> Path:
    """The plugin folder: ``path`` if given, else the current directory; must hold config.yaml."""
    folder = Path(path or ".").resolve()
    if not (folder / CONFIG_FILE).is_file():
        raise PluginNotFound(
            f"{folder}: no {CONFIG_FILE} here; cd into a plugin folder or pass --path DIR "
            "(create one with 'synapse plugin create')"
        )
    return folder


def import_entrypoint(plugin_dir: Path, entrypoint: str) -> Any:
    """Import ``module.Class`` from the plugin folder, forgetting a same-named package of another plugin."""
    module_name, _, class_name = entrypoint.rpartition(".")
    top = module_name.split(".")[0]
    loaded = sys.modules.get(top)
    if loaded is not None and not _is_inside(loaded, plugin_dir):
        for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
            del sys.modules[name]
    folder = str(plugin_dir)
    if folder in sys.path:
        sys.path.remove(folder)
    sys.path.insert(0, folder)
    importlib.invalidate_caches()
    module = importlib.import_module(module_name)
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise ImportError(f"module {module_name!r} has no class {class_name!r}") from None


def _is_inside(module: Any, folder: Path) -> bool:
    paths = [getattr(module, "__file__", None), *list(getattr(module, "__path__", []) or [])]
    return any(p and Path(p).resolve().is_relative_to(folder) for p in paths)


def resolve_action_class(obj: Any, where: str) -> type[Action]:
    """Turn an entrypoint object into an Action class (an Action, or a hook class like BaseExporter)."""
    from synapse_sdk.plugins.categories.base import Action

    if isinstance(obj, type) and issubclass(obj, Action):
        return obj
    as_action = getattr(obj, "as_action", None)
    if isinstance(obj, type) and callable(as_action):
        action = as_action()
        if isinstance(action, type) and issubclass(action, Action):
            return action
    raise ConfigError(
        f"{where}: {getattr(obj, '__qualname__', obj)!r} is not an Action; subclass a base action "
        "such as synapse_sdk.plugins.categories.neural_net.TrainAction"
    )


def load_action_class(plugin_dir: Path, config: PluginConfig, name: str) -> type[Action]:
    """Import and check one action's entrypoint."""
    action = config.get_action(name)
    where = f"{plugin_dir / CONFIG_FILE}: actions.{name}.entrypoint"
    try:
        obj = import_entrypoint(plugin_dir, action.entrypoint)
    except ImportError as exc:
        raise ConfigError(
            f"{where}: cannot import {action.entrypoint!r}: {exc}; check the module path "
            "and that the file exists in the plugin folder"
        ) from None
    except Exception as exc:
        raise ConfigError(
            f"{where}: importing {action.entrypoint!r} failed: {type(exc).__name__}: {exc}"
        ) from None
    cls = resolve_action_class(obj, where)
    allowed = allowed_methods(config, name)
    if action.method not in allowed:
        raise ConfigError(
            f"{plugin_dir / CONFIG_FILE}: actions.{name}.method: {config.category.value} plugins "
            f"cannot use {action.method!r}; use one of {', '.join(allowed)}"
        )
    return cls


def allowed_methods(config: PluginConfig, name: str) -> tuple[str, ...]:
    """Every category may run jobs and tasks; REST serving is for model-facing categories."""
    from synapse_sdk.plugins.categories import Category

    if config.category in (Category.NEURAL_NET, Category.SMART_TOOL):
        return METHODS
    return ("job", "task")


def load_plugin(path: str | Path | None = None) -> LoadedPlugin:
    """Validate config.yaml and import every entrypoint, raising one ``ConfigError`` with all problems."""
    folder = find_plugin_dir(path)
    config = PluginConfig.load(folder)
    actions: dict[str, type[Action]] = {}
    problems: list[str] = []
    for name in config.actions:
        try:
            actions[name] = load_action_class(folder, config, name)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError("\n".join(problems), problems)
    return LoadedPlugin(path=folder, config=config, actions=actions)
