"""``Action``: the unit a plugin provides. Subclass a category's base action and write ``start()``.

Example::

    from pydantic import BaseModel
    from synapse_sdk.plugins.categories.neural_net import TrainAction

    class TrainParams(BaseModel):
        epochs: int = 10

    class MyTrain(TrainAction):
        params_model = TrainParams

        def start(self):
            for epoch in range(self.params["epochs"]):
                self.run.set_progress(epoch + 1, self.params["epochs"], "training")
            return {"status": "success"}
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from types import CoroutineType
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from synapse_sdk._redact import redact, secret_values
from synapse_sdk.backend.schemas import ACTIVE, NewRun, RunStatus
from synapse_sdk.errors import ActionStopped, ParamsError, RunConflict
from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.config import PluginConfig, describe_errors
from synapse_sdk.plugins.run.run import Run
from synapse_sdk.plugins.run.sinks import BackendSink, RunSink

_HOST = socket.gethostname()


class Action:
    """Base of every plugin action.

    Only ``start()`` is required. Optional: ``params_model`` (a pydantic model validating
    ``params``), ``progress_categories`` (category -> description) and ``get_runtime_env()``.
    Inside ``start()``, ``self.params`` holds the validated params as a dict and ``self.run``
    records logs, progress and metrics.
    """

    name: ClassVar[str] = ""
    category: ClassVar[Category | None] = None
    method: ClassVar[str] = "job"
    params_model: ClassVar[type[BaseModel] | None] = None
    progress_categories: ClassVar[dict[str, str] | None] = None
    #: Set on each category's own base classes: instantiating one runs the plugin's entrypoint.
    is_category_base: ClassVar[bool] = False

    def __new__(cls, *args: Any, **kwargs: Any) -> Action:
        if cls.__dict__.get("is_category_base"):
            target = _plugin_entrypoint(cls, kwargs.get("plugin_config"), kwargs.get("plugin_path"))
            if target is not None and target is not cls:
                if issubclass(target, cls):
                    return super().__new__(target)
                return target(*args, **kwargs)
        return super().__new__(cls)

    def __init__(
        self,
        params: dict[str, Any] | None = None,
        plugin_config: PluginConfig | dict[str, Any] | str | Path | None = None,
        envs: dict[str, str] | None = None,
        *,
        plugin_path: str | Path | None = None,
        run: Run | None = None,
        run_id: str | None = None,
        observers: list[RunSink] | None = None,
        debug: bool = False,
        backend: Any = None,
    ) -> None:
        self.plugin_path = _plugin_path(plugin_config, plugin_path)
        self.plugin_config = _as_config(plugin_config, self.plugin_path)
        self.envs = dict(envs or {})
        self.debug = debug
        self.raw_params = dict(params or {})
        self.validated_params = self.validate_params(self.raw_params)
        self.params: dict[str, Any] = (
            self.validated_params.model_dump() if self.validated_params is not None else dict(self.raw_params)
        )
        self._backend = backend
        #: Set by an executor that keeps the run's books itself (a Ray task's owner: it created
        #: the run and is the one that can stop it): the action then starts without checking
        #: the run and hands its end (status and fields) to this function instead of storing it.
        self.end_recorder: Callable[[Any, dict[str, Any]], None] | None = None
        if run is None:
            run = Run(
                run_id or uuid.uuid4().hex[:16],
                [BackendSink(self.backend), *(observers or [])],
                secrets=lambda: secret_values(self.raw_params, self.envs),
                progress_categories=self.progress_categories,
            )
        self.run = run

    # -- what authors override ------------------------------------------------------------------

    def start(self) -> Any:
        """Do the action's work and return a JSON-serialisable result (``async def`` works too)."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement start()")

    def setup(self) -> None:
        """Load models or other state once before serving requests (REST actions); optional."""

    def get_runtime_env(self) -> dict[str, Any]:
        """The environment the action needs: env vars, pip packages and the plugin folder."""
        config = self.plugin_config
        return {
            "env_vars": dict(self.envs),
            "pip": {
                "packages": read_requirements(self.plugin_path),
                "pip_install_options": list(config.package_manager_options) if config else [],
            },
            "working_dir": str(self.plugin_path) if self.plugin_path else None,
        }

    # -- machinery ------------------------------------------------------------------------------

    @classmethod
    def validate_params(cls, params: dict[str, Any]) -> BaseModel | None:
        """Validate params with ``params_model``; ``ParamsError`` lists every bad field."""
        if cls.params_model is None:
            return None
        try:
            return cls.params_model.model_validate(params)
        except ValidationError as exc:
            lines = describe_errors(exc, params, prefix="params.")
            raise ParamsError(
                f"invalid params for action {cls.name or cls.__name__!r}: " + "; ".join(lines)
            ) from None

    @property
    def backend(self) -> Any:
        """The run backend the action reports to (the embedded store unless configured)."""
        if self._backend is None:
            from synapse_sdk.backend import get_backend

            self._backend = get_backend()
        return self._backend

    @property
    def action_method(self) -> str:
        """How this action runs according to config.yaml (falls back to the class default)."""
        config = self.plugin_config
        if config is not None and self.name in config.actions:
            return config.actions[self.name].method
        return self.method

    def new_run_record(self, is_job: bool = False) -> Any:
        """What to store about this run when it is created (params and envs redacted)."""
        return run_record(
            self.run.id,
            self.name or type(self).__name__,
            self.plugin_config,
            self.raw_params,
            self.envs,
            category=self.category,
            is_job=is_job,
        )

    def run_action(self) -> Any:
        """Run ``start()`` and record the run: RUNNING, then SUCCEEDED, FAILED or STOPPED."""
        self._mark_running()
        try:
            result = self.start()
            if isinstance(result, CoroutineType):
                import asyncio

                result = asyncio.run(result)
            result = as_json(result)
        except ActionStopped:
            self.run.log_message("stopped on request", "WARNING")
            self._finish(RunStatus.STOPPED, error="stopped on request")
            raise
        except BaseException as exc:
            message = f"{type(exc).__name__}: {exc}"
            self.run.log_message(f"action failed: {message}", "ERROR")
            self._finish(RunStatus.FAILED, error=message)
            raise
        self._finish(RunStatus.SUCCEEDED, result=result)
        return result

    def _mark_running(self) -> None:
        """Start only a PENDING run (one created for it; programmatic use creates it here).

        RUNNING is recorded by the run's flusher beside the action, not before it: the
        check is one read, and a run that ends first carries its start in its final write.
        With an ``end_recorder``, whoever set it vouches for the run and nothing is checked.
        """
        now = time.time()
        started = {"started_at": now, "heartbeat_at": now, "host": _HOST, "pid": os.getpid()}
        if self.end_recorder is not None:
            self.run.mark_started(started)
            return
        backend = self.backend
        status = backend.run_status(self.run.id)
        if status is None:
            try:
                backend.create_run(self.new_run_record())
                status = RunStatus.PENDING
            except RunConflict:  # created meanwhile by someone else
                status = backend.run_status(self.run.id)
        if status is not RunStatus.PENDING:
            shown = status.value if status else "gone"
            raise RunConflict(f"run {self.run.id!r} is {shown}, not PENDING; it cannot start")
        self.run.mark_started(started)

    def _finish(self, status: Any, **fields: Any) -> None:
        started = self.run.close() or {}  # every event is stored before the end
        end = {"finished_at": time.time(), "lost_events": self.run.lost, **started, **fields}
        if self.end_recorder is not None:
            self.end_recorder(status, end)
        else:
            self.backend.transition(self.run.id, ACTIVE, status, **end)


def as_json(value: Any) -> Any:
    """``value`` as it comes back from JSON (what the run stores): tuples become lists, dates text.

    A value made only of JSON's own types comes back as itself, without the round trip.
    """
    if _is_json(value):
        return value
    return json.loads(json.dumps(value, default=str))


def _is_json(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return True
    if kind is dict:
        return all(type(k) is str and _is_json(v) for k, v in value.items())
    if kind is list:
        return all(_is_json(v) for v in value)
    return False


def run_record(
    run_id: str,
    action: str,
    config: PluginConfig | None,
    params: dict[str, Any],
    envs: dict[str, str],
    *,
    category: Category | str | None = None,
    is_job: bool = False,
    extra: dict[str, Any] | None = None,
) -> Any:
    """The ``NewRun`` stored when a run is created; params and envs are redacted.

    ``extra`` adds to what the record's ``extra`` holds (the envs), e.g. where the run executes.
    """
    category = category or (config.category if config else None)
    method = config.actions[action].method if config and action in config.actions else None
    return NewRun(
        id=run_id,
        action=action,
        plugin_code=config.code if config else None,
        plugin_version=config.version if config else None,
        category=getattr(category, "value", category),
        method=method,
        params=redact(params),
        is_job=is_job,
        extra={"envs": redact(envs), **(extra or {})} if envs else dict(extra or {}),
    )


def read_requirements(plugin_path: Path | None) -> list[str]:
    """The requirement lines of the plugin's requirements.lock (published releases) or requirements.txt."""
    if plugin_path is None:
        return []
    file = plugin_path / "requirements.lock"
    if not file.is_file():
        file = plugin_path / "requirements.txt"
    if not file.is_file():
        return []
    lines = []
    for raw in file.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


@lru_cache(maxsize=256)
def _resolved(path: str) -> Path:
    """``Path(path).resolve()``, once per path: an action is built per run, often in one folder."""
    return Path(path).resolve()


def _plugin_path(plugin_config: Any, plugin_path: str | Path | None) -> Path | None:
    if plugin_path is not None:
        return _resolved(str(plugin_path))
    if isinstance(plugin_config, str | Path):
        path = _resolved(str(plugin_config))
        return path.parent if path.is_file() else path
    if isinstance(plugin_config, dict) and plugin_config.get("path"):
        return Path(plugin_config["path"]).resolve()
    cwd = Path.cwd()
    return cwd if (cwd / "config.yaml").is_file() else None


def _as_config(plugin_config: Any, plugin_path: Path | None) -> PluginConfig | None:
    if isinstance(plugin_config, PluginConfig):
        return plugin_config
    if isinstance(plugin_config, dict):
        data = {k: v for k, v in plugin_config.items() if k != "path"}
        return PluginConfig.from_dict(data, source="plugin_config")
    if plugin_path is not None and (plugin_path / "config.yaml").is_file():
        return PluginConfig.load(plugin_path)
    return None


def _plugin_entrypoint(
    cls: type[Action], plugin_config: Any, plugin_path: str | Path | None
) -> type[Action] | None:
    """For a category base class, the plugin's own class for the same action, if the config names one."""
    from synapse_sdk.plugins.loader import load_action_class

    folder = _plugin_path(plugin_config, plugin_path)
    config = _as_config(plugin_config, folder)
    if config is None or cls.name not in config.actions:
        return None
    return load_action_class(folder or Path.cwd(), config, cls.name)
