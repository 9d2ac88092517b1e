"""Category -> action -> class, with actions added through entry points, and plugins found on disk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from synapse_sdk.errors import ActionNotFound, ConfigError, PluginNotFound, did_you_mean
from synapse_sdk.plugins.categories import CATEGORIES, ActionSpec, Category
from synapse_sdk.plugins.config import CONFIG_FILE, PluginConfig

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.base import Action

ENTRY_POINT_GROUP = "synapse_sdk.plugins"
PLUGIN_PATH_ENV = "SYNAPSE_PLUGIN_PATH"


@cache
def _entry_point_actions() -> dict[tuple[str, str], type[Action]]:
    """Actions registered by installed packages under the ``synapse_sdk.plugins`` group.

    An entry point names an Action subclass (or a module/list of them); each class must set
    ``category`` and ``name``. A category that is not one of the seven becomes a new category.
    """
    from synapse_sdk.plugins.categories.base import Action

    found: dict[tuple[str, str], type[Action]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:
            raise ConfigError(
                f"entry point {ep.name!r} ({ep.value}) in group {ENTRY_POINT_GROUP!r} "
                f"failed to load: {type(exc).__name__}: {exc}"
            ) from None
        candidates = obj if isinstance(obj, list | tuple) else [obj]
        if not isinstance(obj, list | tuple | type):
            candidates = [v for v in vars(obj).values() if isinstance(v, type)]
        for cls in candidates:
            if isinstance(cls, type) and issubclass(cls, Action) and cls.name and cls.category:
                found[(str(cls.category), cls.name)] = cls
    return found


def registered_actions() -> dict[tuple[str, str], ActionSpec | type[Action]]:
    """Every (category, action) known: the ``CATEGORIES`` table's bases plus entry-point additions."""
    known: dict[tuple[str, str], ActionSpec | type[Action]] = {
        (category.value, name): spec
        for category, declared in CATEGORIES.items()
        for name, spec in declared.actions.items()
    }
    known.update(_entry_point_actions())
    return known


def get_action_class(category: str | Category, action: str) -> type[Action]:
    """Return the action class registered for ``category`` and ``action``; ``ActionNotFound`` if none."""
    category = str(getattr(category, "value", category))
    known = registered_actions()
    target = known.get((category, action))
    if target is None:
        categories = sorted({c for c, _ in known})
        if category not in categories:
            raise ActionNotFound(
                f"unknown category {category!r}{did_you_mean(category, categories)}; "
                f"categories: {', '.join(categories)}"
            )
        actions = sorted(a for c, a in known if c == category)
        raise ActionNotFound(
            f"category {category!r} has no action {action!r}{did_you_mean(action, actions)}; "
            f"its actions: {', '.join(actions)}"
        )
    return target.load() if isinstance(target, ActionSpec) else target


def plugin_search_path() -> list[Path]:
    """Folders searched for plugins: ``SYNAPSE_PLUGIN_PATH`` (os.pathsep-separated)."""
    return [Path(p).expanduser() for p in os.environ.get(PLUGIN_PATH_ENV, "").split(os.pathsep) if p]


def iter_plugin_dirs(search_path: list[Path] | None = None) -> Iterator[tuple[PluginConfig, Path]]:
    """Plugins on disk: each folder of the search path that is, or directly holds, a plugin."""
    for root in search_path if search_path is not None else plugin_search_path():
        candidates = [root] if (root / CONFIG_FILE).is_file() else sorted(root.glob(f"*/{CONFIG_FILE}"))
        for file in candidates:
            folder = file if file.is_dir() else file.parent
            try:
                yield PluginConfig.load(folder), folder
            except ConfigError:
                continue


def find_plugin(code: str, version: str | None = None, search_path: list[Path] | None = None) -> Path:
    """The folder of a plugin on disk by code (and version); the newest version wins."""
    from synapse_sdk.plugins.versions import version_key

    matches = [
        (cfg, folder)
        for cfg, folder in iter_plugin_dirs(search_path)
        if cfg.code == code and (version is None or cfg.version == version)
    ]
    if not matches:
        wanted = f"{code}@{version}" if version else code
        raise PluginNotFound(
            f"plugin {wanted!r} not found in {PLUGIN_PATH_ENV} folders; "
            "set SYNAPSE_PLUGIN_PATH, pass --path DIR, or publish it with 'synapse plugin publish'"
        )
    return max(matches, key=lambda m: version_key(m[0].version))[1]
