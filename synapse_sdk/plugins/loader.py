"""Load a plugin from its folder: config plus entrypoint imports, every problem reported at once.

``check_plugin`` is the one pass that finds problems: the config's (``config.yaml`` against
``PluginConfig``) and, for every action whose entry names a usable entrypoint, whether it
imports, is an ``Action`` (not the SDK's own base) and subclasses its category's base for that
action (``CATEGORIES``), implements ``start()`` and has a pydantic ``params_model``; check also
builds each action once, as an executor would. Plugin code that raises anything on the way,
``SystemExit`` and ``KeyboardInterrupt`` included, is one problem line, not an escape.
``load_plugin`` raises them as one ``ConfigError``; ``load_action_class`` checks one action.
"""

from __future__ import annotations

import importlib
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ConfigError, ParamsError, PluginNotFound
from synapse_sdk.plugins.categories import CATEGORIES, Category
from synapse_sdk.plugins.config import (
    CONFIG_FILE,
    ENTRYPOINT,
    PluginConfig,
    cap_problems,
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
    if loaded is not None and _is_other_plugin(loaded, plugin_dir):
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


def _is_other_plugin(module: Any, folder: Path) -> bool:
    """True if ``module`` was imported from another plugin's folder (one holding a config.yaml).

    Only those are forgotten: the SDK, the standard library and installed packages stay loaded
    whatever an entrypoint names.
    """
    package_dirs = list(getattr(module, "__path__", []) or [])
    file = getattr(module, "__file__", None)
    roots = [Path(p).parent for p in package_dirs] or ([Path(file).parent] if file else [])
    folder = folder.resolve()
    return any(root.resolve() != folder and (root / CONFIG_FILE).is_file() for root in roots)


def resolve_action_class(obj: Any, where: str, hint: str = _ACTION_PATH) -> type[Action]:
    """Turn an entrypoint object into an Action class (an Action, or a hook class like BaseExporter)."""
    from synapse_sdk.plugins.categories.base import Action

    if isinstance(obj, type) and issubclass(obj, Action):
        return obj
    as_action = getattr(obj, "as_action", None)
    if isinstance(obj, type) and callable(as_action):
        try:
            action = as_action()
        except Exception as exc:
            raise ConfigError(f"{where}: {obj.__qualname__}.as_action() failed: {_reason(exc)}") from None
        if isinstance(action, type) and issubclass(action, Action):
            return action
    shown = repr(obj.__qualname__) if isinstance(obj, type) else _clip(repr(obj))
    raise ConfigError(f"{where}: {shown} is not an Action; subclass {hint}")


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
    hint = spec.path if spec is not None else _ACTION_PATH
    with _plugin_code(where, f"importing {entrypoint!r}"):
        try:
            obj = import_entrypoint(plugin_dir, entrypoint)
        except ImportError as exc:
            raise ConfigError(
                f"{where}: cannot import {entrypoint!r}: {_clip(_one_line(str(exc)))}; check the module path "
                "and that the file exists in the plugin folder"
            ) from None
    if _is_sdk_base(obj):
        mine = name.title().replace("_", "").replace("-", "")
        raise ConfigError(
            f"{where}: {entrypoint} is the SDK's own {obj.__qualname__}; name your subclass of it, like "
            f"'plugin.{name}.{mine}' for 'class {mine}({obj.__qualname__})' in plugin/{name}.py"
        )
    cls = resolve_action_class(obj, where, hint)
    if spec is not None and category is not None:
        base = spec.load()
        if not issubclass(cls, base):
            raise ConfigError(
                f"{where}: {entrypoint} is {_kind(cls)}, not a {category.value} {name} action; "
                f"subclass {spec.path}"
            )
    _check_contract(cls, where)
    return cls


def _is_sdk_base(obj: Any) -> bool:
    """True for ``Action`` and each category's base action: building one looks up the plugin's own
    class for the action, which would be itself again."""
    from synapse_sdk.plugins.categories.base import Action

    return isinstance(obj, type) and (obj is Action or bool(obj.__dict__.get("is_category_base")))


def _check_contract(cls: type[Action], where: str) -> None:
    """The class attributes an executor relies on: ``start()``, ``params_model``, ``progress_categories``."""
    from pydantic import BaseModel

    from synapse_sdk.plugins.categories.base import Action

    model = cls.params_model
    if model is not None and not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise ConfigError(
            f"{where}: {cls.__qualname__}.params_model is {_clip(repr(model))}, not a pydantic model class; "
            "set it to a BaseModel subclass (class TrainParams(BaseModel): epochs: int = 10) or remove it"
        )
    categories = cls.progress_categories
    if categories is not None and not isinstance(categories, dict):
        raise ConfigError(
            f"{where}: {cls.__qualname__}.progress_categories is {_clip(repr(categories))}, not a dict; "
            "map each category to its description, like {'train': 'Training'}, or remove it"
        )
    start = getattr(cls, "start", None)
    if start is Action.start or not callable(start):
        raise ConfigError(
            f"{where}: {cls.__qualname__} does not implement start(); add 'def start(self):' doing the "
            "action's work and returning its result"
        )


def _check_construction(cls: type[Action], config: PluginConfig, folder: Path, name: str) -> None:
    """Build the action as an executor does (params ``{}``): a failing ``__init__`` is a problem.

    Missing params are not: they come with each run.
    """
    where = f"{folder / CONFIG_FILE}: actions.{name}.entrypoint"
    fix = "; keep __init__ light (load models in setup() or start())"
    with _plugin_code(where, f"{cls.__qualname__}(params={{}})", fix), suppress(ParamsError):
        cls(params={}, plugin_config=config, envs={}, plugin_path=folder)


@contextmanager
def _plugin_code(where: str, doing: str, fix: str = "") -> Iterator[None]:
    """Run plugin code: whatever it raises (``sys.exit()``, ``KeyboardInterrupt``, ``RecursionError``)
    becomes one ``ConfigError`` line; a real Ctrl-C meanwhile still interrupts."""
    with _interrupts() as interrupted:
        try:
            yield
        except ConfigError:
            raise
        except KeyboardInterrupt:
            if interrupted:
                raise
            raise ConfigError(
                f"{where}: {doing} raised KeyboardInterrupt; plugin code must not raise it{fix}"
            ) from None
        except SystemExit as exc:
            raise ConfigError(
                f"{where}: {doing} called sys.exit({_clip(repr(exc.code))}); plugin code must not exit "
                f"(keep scripts under 'if __name__ == \"__main__\":'){fix}"
            ) from None
        except Exception as exc:
            raise ConfigError(f"{where}: {doing} failed: {_reason(exc)}{fix}") from None


@contextmanager
def _interrupts() -> Iterator[list[int]]:
    """Note each SIGINT (Ctrl-C) that arrives meanwhile, so that a KeyboardInterrupt plugin code
    raises itself can be told from one the user asked for (main thread only)."""
    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return
    previous = signal.getsignal(signal.SIGINT)

    def note(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, note)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {_clip(_one_line(str(exc)))}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


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
            cls = _check_entrypoint(folder, category, name, entrypoint)
            if config is not None:
                _check_construction(cls, config, folder, name)
            actions[name] = cls
        except ConfigError as exc:
            problems.extend(exc.problems)
    problems = cap_problems(problems, str(file))
    return PluginCheck(path=folder, config=config, actions=actions, problems=problems)


def _raw_entrypoints(data: Any) -> dict[str, str]:
    """Each action's entrypoint in unvalidated config data, where it is a dotted path."""
    actions = data.get("actions") if isinstance(data, dict) else None
    if not isinstance(actions, dict):
        return {}
    found = {}
    for name, entry in actions.items():
        entrypoint = entry.get("entrypoint") if isinstance(entry, dict) else None
        if isinstance(name, str) and isinstance(entrypoint, str) and ENTRYPOINT.fullmatch(entrypoint):
            found[name] = entrypoint
    return found


def load_plugin(path: str | Path | None = None) -> LoadedPlugin:
    """Validate config.yaml and import every entrypoint, raising one ``ConfigError`` with all problems."""
    check = check_plugin(path)
    if check.config is None or check.problems:
        raise ConfigError("\n".join(check.problems), check.problems)
    return LoadedPlugin(path=check.path, config=check.config, actions=check.actions)
