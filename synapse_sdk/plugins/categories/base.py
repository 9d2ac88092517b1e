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

import copy
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ValidationError

from synapse_sdk.errors import ConfigError, ParamsError
from synapse_sdk.plugins.categories import Category
from synapse_sdk.plugins.config import PluginConfig, describe_errors

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient
    from synapse_sdk.plugins.run.run import Run

#: What ``plugin_config`` may be: a config, its mapping, or the path of config.yaml or its folder.
ConfigSource = PluginConfig | dict[str, Any] | str | Path | None


class Action:
    """Base of every plugin action.

    Only ``start()`` is required. Optional: ``params_model`` (a pydantic model validating
    ``params``), ``progress_categories`` (category -> description) and ``get_runtime_env()``.
    Inside ``start()``, ``self.params`` holds the validated params as a dict, ``self.run``
    records logs, progress and metrics, and ``self.run.path`` is the run's own folder for
    whatever the action writes.

    Constructing an action validates its params and nothing else: whoever runs it (an
    executor, or ``run_action()``) attaches its run.
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
        plugin_config: ConfigSource = None,
        envs: dict[str, str] | None = None,
        *,
        plugin_path: str | Path | None = None,
        run: Run | None = None,
        run_id: str | None = None,
    ) -> None:
        """Validate ``params``; ``plugin_config`` is a config, its mapping, or config.yaml's path or
        folder, and ``plugin_path`` the plugin's folder when the config does not say where it is.
        ``run`` / ``run_id`` name the run to report to (the default: a new run at ``run_action()``)."""
        self._locate(plugin_config, plugin_path, envs)
        self.raw_params = dict(params or {})
        self.validated_params = self.validate_params(self.raw_params)
        self.params: dict[str, Any] = (
            self.validated_params.model_dump() if self.validated_params is not None else dict(self.raw_params)
        )
        self.attached_run: Run | None = run
        self.requested_run_id = run_id
        self.debug = False
        self._bare = False
        self.attached_client: BackendClient | None = None

    @classmethod
    def bare(
        cls, plugin_config: ConfigSource = None, envs: dict[str, str] | None = None, *,
        plugin_path: str | Path | None = None,
    ) -> Action:  # fmt: skip
        """An instance without params, for what needs no request: ``get_runtime_env()``, ``setup()``
        before serving; each request then gets its own copy with ``with_params()``."""
        action = object.__new__(cls)
        action._locate(plugin_config, plugin_path, envs)
        action.raw_params, action.validated_params, action.params = {}, None, {}
        action.attached_run, action.requested_run_id, action.debug = None, None, False
        action._bare = True
        action.attached_client = None
        return action

    @property
    def run(self) -> Run:
        """The run this action reports to: the one its executor attached, else (first used
        programmatically) a new run reporting to the configured backend."""
        if self.attached_run is None:
            if self._bare:
                raise RuntimeError(
                    f"{type(self).__qualname__} was built without params or a run (to read its runtime env "
                    "or serve it): there is no run to report to here"
                )
            from synapse_sdk.backend import get_backend
            from synapse_sdk.execution.action_run import default_run

            self.attached_run = default_run(self, get_backend().runs)
        return self.attached_run

    @run.setter
    def run(self, run: Run) -> None:
        self.attached_run = run

    @property
    def client(self) -> BackendClient:
        """The platform (projects, tasks, ground truth, storages, models), with the reference
        client's method names: the one the executor attached, else the configured one (embedded
        unless ``SYNAPSE_HOST`` is set)."""
        if self.attached_client is None:
            from synapse_sdk.clients.backend import get_backend_client

            self.attached_client = get_backend_client()
        return self.attached_client

    @client.setter
    def client(self, client: BackendClient) -> None:
        self.attached_client = client

    def with_params(self, params: BaseModel | dict[str, Any]) -> Action:
        """A copy of this action for one request: what ``setup()`` loaded is shared, params are its own
        (a model instance is taken as validated; a mapping is validated here)."""
        copied = copy.copy(self)
        if isinstance(params, BaseModel):
            copied.validated_params = params
            copied.raw_params = copied.params = params.model_dump()
        else:
            copied.raw_params = dict(params)
            copied.validated_params = self.validate_params(copied.raw_params)
            copied.params = (
                copied.validated_params.model_dump()
                if copied.validated_params is not None
                else copied.raw_params
            )
        return copied

    def _locate(self, plugin_config: ConfigSource, plugin_path: str | Path | None,
                envs: dict[str, str] | None) -> None:  # fmt: skip
        self.plugin_path = _plugin_path(plugin_config, plugin_path)
        self._config_source = plugin_config
        self.envs = dict(envs or {})

    @cached_property
    def plugin_config(self) -> PluginConfig | None:
        """The plugin's config (read on first use), or None for an action used without a plugin."""
        return _as_config(self._config_source, self.plugin_path)

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
        """Validate params with ``params_model``; ``ParamsError`` lists every bad field and every
        unknown key (refused unless the model sets ``extra`` itself: see ``plugins._params``)."""
        from synapse_sdk.plugins._params import one_line, unknown_keys, without_extra_forbidden

        if cls.params_model is None:
            return None
        try:
            validated = cls.params_model.model_validate(params)
        except ValidationError as exc:
            lines = describe_errors(exc, params, prefix="params.")
            lines = unknown_keys(cls.params_model, params) + without_extra_forbidden(lines, exc)
            raise ParamsError(
                f"invalid params for action {cls.name or cls.__name__!r}: " + one_line(lines)
            ) from None
        unknown = unknown_keys(cls.params_model, params, validated)
        if unknown:
            raise ParamsError(f"invalid params for action {cls.name or cls.__name__!r}: {one_line(unknown)}")
        return validated

    @property
    def action_method(self) -> str:
        """How this action runs according to config.yaml (falls back to the class default)."""
        config = self.plugin_config
        if config is not None and self.name in config.actions:
            return config.actions[self.name].method
        return self.method

    def run_action(self) -> Any:
        """Run ``start()`` here and record the run: RUNNING, then SUCCEEDED, FAILED or STOPPED.

        The run reports to the configured backend (the embedded store unless ``SYNAPSE_HOST``
        is set); an action built without a run gets a new one.
        """
        from synapse_sdk.execution.action_run import run_programmatic

        return run_programmatic(self)


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
    """For a category base class, the plugin's own class for the same action, if the config names one.

    The plugin's code is imported from its folder: ``plugin_path``, the folder of a config path,
    or the current folder when it holds the plugin's config.yaml.
    """
    from synapse_sdk.plugins.loader import load_action_class

    folder = _plugin_path(plugin_config, plugin_path)
    if folder is not None and not folder.is_dir():
        raise ConfigError(f"plugin_path {str(folder)!r}: no such folder; pass the folder holding the plugin")
    config = _as_config(plugin_config, folder)
    if config is None or cls.name not in config.actions:
        return None
    if folder is None:
        entrypoint = config.actions[cls.name].entrypoint
        raise ConfigError(
            f"plugin_config: {config.code!r} names {entrypoint!r} for action {cls.name!r}, but not where "
            f"the plugin's code is; pass plugin_path='path/to/{config.code}' (the folder holding "
            f"{entrypoint.split('.')[0]}/), or plugin_config as the path of its config.yaml"
        )
    return load_action_class(folder, config, cls.name)
