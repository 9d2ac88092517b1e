"""What sharded exports and uploads share: ``extra_params.num_shards``, and the Ray side of their tasks.

A sharded action's own process, the driver, sends its work in pieces to Ray tasks. Each task
builds the plugin's class again in its Ray worker (:func:`load_class`), records what it reports
on ``run`` (:class:`RecordingRun`) and hands that back with its results; the driver replays the
reports (:func:`replay`) in order. :func:`ray_remote` makes the task function a Ray remote
function in the right cluster: inside a Ray job its own (the job's runtime env inherited),
otherwise the one ``SYNAPSE_RAY_ADDRESS`` names (the plugin folder uploaded).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from synapse_sdk.errors import ExecutionError, ParamsError, UsageError

if TYPE_CHECKING:
    from synapse_sdk.plugins.categories.base import Action

#: The most shards an action takes.
MAX_SHARDS: Final = 256
#: The ``extra_params`` key.
KEY: Final = "num_shards"

#: A recorded call on ``run``: its method name, args and kwargs.
Call = tuple[str, tuple[Any, ...], dict[str, Any]]


def num_shards(params: dict[str, Any], shares: str) -> int:
    """``extra_params.num_shards`` checked: an int 1..256 (1 when not given); ``ParamsError`` otherwise,
    and for more than 1 without Ray installed. ``shares`` says what the tasks share (``the items``)."""
    extra = params.get("extra_params")
    value = extra.get(KEY, 1) if isinstance(extra, dict) else 1
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SHARDS:
        raise ParamsError(
            f"params.extra_params.{KEY}: expected a whole number from 1 to {MAX_SHARDS} (the Ray tasks "
            f"that share {shares}), got {value!r}"
        )
    if value > 1 and importlib.util.find_spec("ray") is None:
        raise ParamsError(
            f"params.extra_params.{KEY}: {value} shards run as Ray tasks, and Ray is not installed; "
            "install synapse-plugin-sdk[ray], or leave num_shards at 1"
        )
    return value


class RecordingRun:
    """What a task reports on ``run``: every call kept, for the driver to replay in order."""

    def __init__(self, path: str | None = None) -> None:
        #: The run's folder on the driver (tasks on the same machine may write there).
        self.path = path
        self.calls: list[Call] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args, kwargs))  # list.append: safe from the tasks' own threads

        return call


def replay(run: Any, calls: Iterable[Call]) -> None:
    """Report on the driver's ``run`` what a task recorded; reporting never fails the action."""
    for name, args, kwargs in calls:
        with contextlib.suppress(Exception):
            getattr(run, name)(*args, **kwargs)


def load_class(name: tuple[str, str]) -> Any:
    """The class ``(module, qualname)`` in a Ray worker: the SDK's, or the plugin's from the task's folder."""
    module_name, qualname = name
    if not module_name.startswith("synapse_sdk.") and Path("config.yaml").is_file():
        folder = str(Path.cwd())  # Ray's copy of the plugin folder
        if folder not in sys.path:
            sys.path.insert(0, folder)
    found: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def cancel(refs: Iterable[Any]) -> None:
    """Cancel Ray tasks still running (the action failed or was stopped)."""
    import ray

    for ref in refs:
        with contextlib.suppress(Exception):
            ray.cancel(ref, force=True)


def ray_remote(function: Callable[..., Any], action: Action | None, work: str) -> tuple[Any, dict[str, str]]:
    """``function`` as a Ray remote function, this process connected to the cluster, and the secrets
    the tasks need; ``work`` names the action in the message when no cluster is set (``export``)."""
    import ray

    from synapse_sdk.execution.ray.cluster import connect
    from synapse_sdk.runtime_env.ray import (
        backend_env_vars,
        backend_secrets,
        to_ray_runtime_env,
        upload_working_dir,
    )
    from synapse_sdk.settings import Settings

    settings = Settings.from_env()
    options: dict[str, Any] = {"max_retries": 0, "num_cpus": 1}
    if os.environ.get("RAY_ADDRESS"):  # the driver of a Ray job: the tasks inherit the job's runtime env
        if not ray.is_initialized():
            connect(os.environ["RAY_ADDRESS"])
    elif settings.ray_address or ray.is_initialized():
        if not ray.is_initialized():
            connect(str(settings.ray_address))
        if action is not None:
            config = action.plugin_config
            env = to_ray_runtime_env(
                action.get_runtime_env(),
                config.package_manager if config is not None else "pip",
                extra_env_vars=backend_env_vars(settings),
            )
            try:
                options["runtime_env"] = upload_working_dir(env)
            except Exception as exc:
                raise ExecutionError(f"cannot upload the plugin to Ray: {exc}") from exc
    else:
        raise UsageError(
            f"params.extra_params.{KEY}: the shards run as Ray tasks, and no Ray cluster is set: run the "
            f"{work} on one (--ray-address / SYNAPSE_RAY_ADDRESS), or leave num_shards at 1"
        )
    return ray.remote(function).options(**options), backend_secrets(settings)
