"""The seven plugin categories and, in one table, what each one is.

``CATEGORIES`` says, per category, which actions it declares, the base class a plugin's class
for each of them must subclass, the method a new action gets by default and the methods it may
use. The config model, the loader, the registry, the templates and ``synapse plugin check`` all
read this table; nothing else lists actions or methods.

Importing this module imports no action class: bases are dotted paths, imported on lookup
(``ActionSpec.load()``), because every category module imports ``Category`` from here.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal, get_args

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.base import Action


class Category(StrEnum):
    """A plugin's category, as written in ``config.yaml``."""

    NEURAL_NET = "neural_net"
    EXPORT = "export"
    UPLOAD = "upload"
    SMART_TOOL = "smart_tool"
    PRE_ANNOTATION = "pre_annotation"
    POST_ANNOTATION = "post_annotation"
    DATA_VALIDATION = "data_validation"


#: How an action runs: a background job, a task, or a REST endpoint (``config.yaml``'s ``method``).
Method = Literal["job", "task", "restapi"]
#: Every method, in the order messages list them.
METHODS: Final[tuple[Method, ...]] = get_args(Method)

_RUN: Final[tuple[Method, ...]] = ("job", "task")
_RUN_OR_SERVE: Final[tuple[Method, ...]] = ("job", "task", "restapi")


@dataclass(frozen=True)
class ActionSpec:
    """One action a category declares: its base class, default method and allowed methods."""

    #: ``"module:Class"`` of the base a plugin's class for this action must subclass.
    base: str
    #: The method ``synapse plugin create`` writes and the base class's ``method`` ClassVar.
    default_method: Method
    #: The methods ``config.yaml`` may give this action.
    methods: tuple[Method, ...]

    def __post_init__(self) -> None:
        if self.default_method not in self.methods:
            raise ValueError(f"{self.base}: default method {self.default_method!r} is not in {self.methods}")

    @property
    def path(self) -> str:
        """The base as a dotted import path, the way messages show it (``pkg.module.Class``)."""
        return self.base.replace(":", ".")

    def load(self) -> type[Action]:
        """Import and return the base class."""
        module, _, name = self.base.partition(":")
        cls: type[Action] = getattr(importlib.import_module(module), name)
        return cls


@dataclass(frozen=True)
class CategorySpec:
    """What one category is: its declared actions and the methods its custom actions may use."""

    #: The spec's actions of the category, in the order the spec lists them.
    actions: Mapping[str, ActionSpec]
    #: The methods of an action the category does not declare (a plugin's own action name).
    methods: tuple[Method, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "actions", MappingProxyType(dict(self.actions)))

    def methods_for(self, action: str) -> tuple[Method, ...]:
        """The methods ``action`` may use: its declared ones, else the category's."""
        spec = self.actions.get(action)
        return spec.methods if spec is not None else self.methods


def _spec(package: str, cls: str, default_method: Method, methods: tuple[Method, ...]) -> ActionSpec:
    return ActionSpec(f"synapse_sdk.plugins.categories.{package}:{cls}", default_method, methods)


#: Every category: its actions (base, default method, methods) and its custom actions' methods.
#: REST serving is for the model-facing categories (neural_net, smart_tool); all run jobs and tasks.
CATEGORIES: Final[Mapping[Category, CategorySpec]] = MappingProxyType(
    {
        Category.NEURAL_NET: CategorySpec(
            actions={
                "deployment": _spec("neural_net", "DeploymentAction", "restapi", _RUN_OR_SERVE),
                "gradio": _spec("neural_net", "GradioAction", "restapi", _RUN_OR_SERVE),
                "inference": _spec("neural_net", "InferenceAction", "restapi", _RUN_OR_SERVE),
                "test": _spec("neural_net", "TestAction", "job", _RUN_OR_SERVE),
                "train": _spec("neural_net", "TrainAction", "job", _RUN_OR_SERVE),
                "tune": _spec("neural_net", "TuneAction", "job", _RUN_OR_SERVE),
            },
            methods=_RUN_OR_SERVE,
        ),
        Category.EXPORT: CategorySpec(
            actions={"export": _spec("export", "ExportAction", "job", _RUN)},
            methods=_RUN,
        ),
        Category.UPLOAD: CategorySpec(
            actions={"upload": _spec("upload", "UploadAction", "job", _RUN)},
            methods=_RUN,
        ),
        Category.SMART_TOOL: CategorySpec(
            actions={"auto_label": _spec("smart_tool", "AutoLabelAction", "task", _RUN_OR_SERVE)},
            methods=_RUN_OR_SERVE,
        ),
        Category.PRE_ANNOTATION: CategorySpec(
            actions={
                "pre_annotation": _spec("pre_annotation", "PreAnnotationAction", "job", _RUN),
                "to_task": _spec("pre_annotation", "ToTaskAction", "job", _RUN),
            },
            methods=_RUN,
        ),
        Category.POST_ANNOTATION: CategorySpec(
            actions={"post_annotation": _spec("post_annotation", "PostAnnotationAction", "job", _RUN)},
            methods=_RUN,
        ),
        Category.DATA_VALIDATION: CategorySpec(
            actions={"validation": _spec("data_validation", "ValidationAction", "task", _RUN)},
            methods=_RUN,
        ),
    }
)
