"""What an export reads: a ``target`` and its ``filter``, checked at the door, opened as a stream of items.

=============== ====================================== =========================================
target          filter: required / optional            items
=============== ====================================== =========================================
``assignment``  ``project`` / ``status``,              each assignment: ``data`` is the annotator's
                ``annotator``, ``task``                annotation, ``task`` its task
``task``        ``project`` / ``assignment``,          each task: ``data`` is its annotation
                ``status``, ``data_unit``
``ground_truth`` ``ground_truth_dataset_version`` /    each event of the version: ``data`` and
                ``split``, ``data_unit``               ``split``
``local``       ``source`` (a JSON or JSONL file)      the file's items, as written
=============== ====================================== =========================================

Every platform target also takes ``expand``: a list of related records to include whole
(``data_unit``; ``task`` for assignments; ``assignment`` for tasks; ``data`` is always there).
An assignment ``status`` of ``completed`` means submitted or approved work. Unknown keys are
refused naming the closest one. Items come in id order, the order a resumed export relies on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import did_you_mean

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient
    from synapse_sdk.plugins.categories.export.targets.local import LocalItems
    from synapse_sdk.plugins.categories.export.targets.platform import PlatformItems

__all__ = [
    "TARGETS",
    "Target",
    "check_filter",
    "describe",
    "expanded",
    "get_export_items",
    "listing_filters",
]


@dataclass(frozen=True)
class Target:
    """One target: the filter keys it needs and takes, and the records ``expand`` may include."""

    name: str
    #: The platform listing whose filters these are (None: not from the platform).
    resource: str | None
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    expand: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """Every filter key the target accepts."""
        return (*self.required, *self.optional, *(("expand",) if self.resource else ()))


TARGETS: Final[dict[str, Target]] = {
    "assignment": Target(
        "assignment",
        "assignments",
        ("project",),
        ("status", "annotator", "task"),
        ("data", "data_unit", "task"),
    ),
    "task": Target(
        "task",
        "tasks",
        ("project",),
        ("assignment", "status", "data_unit"),
        ("data", "data_unit", "assignment"),
    ),
    "ground_truth": Target(
        "ground_truth",
        "ground_truth_events",
        ("ground_truth_dataset_version",),
        ("split", "data_unit"),
        ("data", "data_unit"),
    ),  # fmt: skip
    "local": Target("local", None, ("source",)),
}

#: Assignment statuses a ``status`` filter may name besides the platform's own.
_ASSIGNMENT_ALIASES: Final = {"completed": ["submitted", "approved"]}


def check_filter(target: str, filter: Mapping[str, Any]) -> list[str]:  # noqa: A002 - the params' name
    """The problems of ``filter`` for ``target``, one ``filter.<key>: ...`` line each (none: valid)."""
    spec = TARGETS[target]
    problems = []
    for key in filter:
        if key not in spec.keys:
            problems.append(
                f"filter.{key}: not a filter of target {target!r}{did_you_mean(str(key), spec.keys)}; "
                f"filters: {', '.join(spec.keys)}"
            )
    for key in spec.required:
        if filter.get(key) in (None, ""):
            example = {"source": '"items.json"'}.get(key, "123")
            problems.append(f'filter.{key}: required for target {target!r}, like {{"{key}": {example}}}')
    expand = filter.get("expand", [])
    if spec.resource and expand is not None:
        if isinstance(expand, str):
            expand = [expand]
        if not isinstance(expand, list) or not all(isinstance(e, str) for e in expand):
            problems.append(f'filter.expand: expected a list of names like ["data_unit"], got {expand!r}')
        else:
            for name in expand:
                if name not in spec.expand:
                    problems.append(
                        f"filter.expand: {name!r} cannot be expanded for target {target!r}"
                        f"{did_you_mean(name, spec.expand)}; expandable: {', '.join(spec.expand)}"
                    )
    if spec.resource and not problems:
        from synapse_sdk.backend.resources import RESOURCES
        from synapse_sdk.errors import UsageError

        try:
            RESOURCES[spec.resource].check_filters(listing_filters(target, filter), where="filter")
        except UsageError as exc:
            problems.append(str(exc))
    return problems


def listing_filters(target: str, filter: Mapping[str, Any]) -> dict[str, Any]:  # noqa: A002 - the params' name
    """The platform listing's filters for a checked ``filter`` (``expand`` aside, aliases resolved)."""
    filters = {k: v for k, v in filter.items() if k != "expand" and v is not None}
    if target == "assignment" and filters.get("status") in _ASSIGNMENT_ALIASES:
        filters["status"] = _ASSIGNMENT_ALIASES[filters["status"]]
    return filters


def expanded(filter: Mapping[str, Any]) -> list[str]:  # noqa: A002 - the params' name
    """The names ``filter.expand`` lists (a single name counts as a list of one)."""
    expand = filter.get("expand") or []
    return [expand] if isinstance(expand, str) else list(expand)


def get_export_items(
    params: Mapping[str, Any], client: BackendClient | None = None, plugin_path: Path | None = None
) -> PlatformItems | LocalItems:
    """The items of validated export params: a sized stream, iterable more than once, in id order.

    Platform targets need ``client``; their project (or ground-truth version) must exist.
    """
    target, filter = params["target"], dict(params.get("filter") or {})  # noqa: A001 - the params' name
    if target == "local":
        from synapse_sdk.plugins.categories.export.targets.local import local_items

        return local_items(str(filter["source"]), plugin_path)
    from synapse_sdk.plugins.categories.export.targets.platform import PlatformItems

    if client is None:
        raise TypeError(f"target {target!r} reads the platform: pass the client")
    items = PlatformItems(client, target, listing_filters(target, filter), expanded(filter))
    items.check()
    return items


def describe(target: str, filter: Mapping[str, Any]) -> str:  # noqa: A002 - the params' name
    """``task of project 3 (status 'completed')``: a target and filter as messages name them."""
    spec = TARGETS[target]
    main = ", ".join(f"{k} {filter[k]!r}" for k in spec.required if k in filter)
    extra = ", ".join(f"{k} {v!r}" for k, v in filter.items() if k not in spec.required and k != "expand")
    return f"{target} items of {main}" + (f" ({extra})" if extra else "")
