"""A plugin's class (``BaseExporter``, ``BaseUploader`` subclass) turned into its category's action.

Plugins name their class as the entrypoint (``plugin.export.Exporter``); the loader asks it for
its action with ``as_action()``, which builds (once per class) a subclass of the category's
action running it, with the params model the plugin declares: its ``params_model``, or the one
params model its module defines (the spec's ``CustomExportParams`` beside its ``Exporter``).
"""

from __future__ import annotations

import sys
from typing import Any, TypeVar

from synapse_sdk.errors import ConfigError

A = TypeVar("A", bound=type)


def declared_params_model(cls: type, base_class: type, params_base: type, kind: str) -> Any:
    """``cls.params_model`` when a class between ``cls`` and ``base_class`` sets it, else the one
    ``params_base`` subclass the module of ``cls`` defines, else ``cls.params_model``.

    ``ConfigError`` when the module defines several (``kind`` names them: ``export``).
    """
    for klass in cls.__mro__:
        if klass is base_class:
            break
        if "params_model" in klass.__dict__:
            return cls.params_model  # type: ignore[attr-defined]  # the plugin class's own
    module = sys.modules.get(cls.__module__)
    found = [
        value for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, params_base) and value is not params_base
        and value.__module__ == cls.__module__
    ] if module is not None else []  # fmt: skip
    if len(found) > 1:
        names = ", ".join(sorted(model.__name__ for model in found))
        raise ConfigError(
            f"{cls.__module__}: defines several {kind} params models ({names}); set "
            f"params_model on {cls.__qualname__} to the one it takes"
        )
    return found[0] if found else cls.params_model  # type: ignore[attr-defined]  # the base's


def bound_action(cls: Any, action_base: A, attribute: str) -> A:
    """The subclass of ``action_base`` that runs ``cls`` (as its ``attribute``), built once per class."""
    action = cls.__dict__.get("_action_class")
    if action is None:
        action = type(
            cls.__name__,
            (action_base,),
            {
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "__doc__": cls.__doc__,
                attribute: cls,
                "params_model": cls.declared_params_model(),
                "is_category_base": False,
            },
        )
        cls._action_class = action
    found: A = action
    return found
