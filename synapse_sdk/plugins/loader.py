"""Load a plugin from its folder: config plus entrypoint imports, every problem reported at once.

``check_plugin`` is the one pass that finds problems: the config's (``config.yaml`` against
``PluginConfig``) and, for every action whose entry names a usable entrypoint, whether it
imports, is an ``Action`` and subclasses its category's base for that action (``CATEGORIES``).
``load_plugin`` raises them as one ``ConfigError``; ``load_action_class`` checks one action.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ConfigError, PluginNotFound
from synapse_sdk.plugins.categories import CATEGORIES, Category
from synapse_sdk.plugins.config import (
    CONFIG_FILE,
    ENTRYPOINT,
    PluginConfig,
    raw_category,
    read_config_file,
)

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.base import Action

_ACTION_PATH = "synapse_sdk.plugins.categories.base.Action"


@dataclass(frozen=True)
class LoadedPlugin:
    """A validated plugin: its folder, its config and the class of each action."""

    path: Path
    config: PluginConfig
    actions: dict[str, type[Action]]


@dataclass(frozen=True)
class PluginCheck:
    """What ``check_plugin`` found: the config if valid, each action class that loaded, each problem."""

    path: Path
    config: PluginConfig | None
    actions: dict[str, type[Action]]
    #: One line per problem, ``<file>: <key path>: <what is wrong and how to fix it>``.
    problems: list[str]

    @property
    def is_ok(self) -> bool:
        """True if nothing is wrong: the config is valid and every entrypoint loaded."""
        return self.config is not None and not self.problems


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


def resolve_action_class(obj: Any, where: str, hint: str = _ACTION_PATH) -> type[Action]:
    """Turn an entrypoint object into an Action class (an Action, or a hook class like BaseExporter)."""
    from synapse_sdk.plugins.categories.base import Action

    if isinstance(obj, type) and issubclass(obj, Action):
        return obj
    as_action = getattr(obj, "as_action", None)
    if isinstance(obj, type) and callable(as_action):
        action = as_action()
        if isinstance(action, type) and issubclass(action, Action):
            return action
    raise ConfigError(f"{where}: {getattr(obj, '__qualname__', obj)!r} is not an Action; subclass {hint}")


def load_action_class(plugin_dir: Path, config: PluginConfig, name: str) -> type[Action]:
    """Import and check one action's entrypoint; ``ConfigError`` naming the key if it is wrong."""
    action = config.get_action(name)
    return _check_entrypoint(plugin_dir, config.category, name, action.entrypoint)


def _check_entrypoint(
    plugin_dir: Path, category: Category | None, name: str, entrypoint: str
) -> type[Action]:
    """Import ``entrypoint`` and check it is the Action the category wants for action ``name``.

    For an action the category declares (neural_net ``train``), the class must subclass that
    action's base; any other name is the plugin's own action and may be any Action.
    """
    where = f"{plugin_dir / CONFIG_FILE}: actions.{name}.entrypoint"
    spec = CATEGORIES[category].actions.get(name) if category is not None else None
    try:
        obj = import_entrypoint(plugin_dir, entrypoint)
    except ImportError as exc:
        raise ConfigError(
            f"{where}: cannot import {entrypoint!r}: {exc}; check the module path "
            "and that the file exists in the plugin folder"
        ) from None
    except Exception as exc:
        raise ConfigError(f"{where}: importing {entrypoint!r} failed: {type(exc).__name__}: {exc}") from None
    cls = resolve_action_class(obj, where, spec.path if spec is not None else _ACTION_PATH)
    if spec is not None and category is not None:
        base = spec.load()
        if not issubclass(cls, base):
            raise ConfigError(
                f"{where}: {entrypoint} is {_kind(cls)}, not a {category.value} {name} action; "
                f"subclass {spec.path}"
            )
    return cls


def _kind(cls: type[Action]) -> str:
    """What an Action class is, by its nearest category base: ``an UploadAction (synapse_sdk...)``."""
    for klass in cls.__mro__:
        if klass.__dict__.get("is_category_base"):
            category, name = getattr(klass, "category", None), getattr(klass, "name", "")
            declared = CATEGORIES.get(category) if category is not None else None
            spec = declared.actions.get(name) if declared is not None else None
            path = spec.path if spec is not None else f"{klass.__module__}.{klass.__qualname__}"
            article = "an" if klass.__name__[0] in "AEIOU" else "a"
            return f"{article} {klass.__name__} ({path})"
    return f"a plain Action ({_ACTION_PATH})"


def check_plugin(path: str | Path | None = None) -> PluginCheck:
    """Validate config.yaml and import every entrypoint, collecting every problem instead of raising.

    Entrypoints are checked even when other keys are wrong: every action whose own
    ``entrypoint`` is a dotted path is imported, so a bad ``method`` in one action does not
    hide a missing module in another. Raises only ``PluginNotFound`` (no config.yaml).
    """
    folder = find_plugin_dir(path)
    try:
        file, data = read_config_file(folder)
    except ConfigError as exc:
        return PluginCheck(path=folder, config=None, actions={}, problems=list(exc.problems))
    problems: list[str] = []
    config: PluginConfig | None = None
    try:
        config = PluginConfig.from_dict(data, source=str(file))
    except ConfigError as exc:
        problems.extend(exc.problems)
    if config is not None:
        category: Category | None = config.category
        entrypoints = {name: action.entrypoint for name, action in config.actions.items()}
    else:
        category, entrypoints = raw_category(data), _raw_entrypoints(data)
    actions: dict[str, type[Action]] = {}
    for name, entrypoint in entrypoints.items():
        try:
            actions[name] = _check_entrypoint(folder, category, name, entrypoint)
        except ConfigError as exc:
            problems.extend(exc.problems)
    return PluginCheck(path=folder, config=config, actions=actions, problems=problems)


def _raw_entrypoints(data: Any) -> dict[str, str]:
    """Each action's entrypoint in unvalidated config data, where it is a dotted path."""
    actions = data.get("actions") if isinstance(data, dict) else None
    if not isinstance(actions, dict):
        return {}
    found = {}
    for name, entry in actions.items():
        entrypoint = entry.get("entrypoint") if isinstance(entry, dict) else None
        if isinstance(name, str) and isinstance(entrypoint, str) and ENTRYPOINT.match(entrypoint):
            found[name] = entrypoint
    return found


def load_plugin(path: str | Path | None = None) -> LoadedPlugin:
    """Validate config.yaml and import every entrypoint, raising one ``ConfigError`` with all problems."""
    check = check_plugin(path)
    if check.config is None or check.problems:
        raise ConfigError("\n".join(check.problems), check.problems)
    return LoadedPlugin(path=check.path, config=check.config, actions=check.actions)
