"""``config.yaml`` as a pydantic model; every error names the file, the key path and the fix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from synapse_sdk._redact import MASK, Masker, is_secret_key, redact, secret_values
from synapse_sdk.backend.schemas import MAX_ATTEMPTS
from synapse_sdk.errors import ConfigError, did_you_mean
from synapse_sdk.plugins._yaml import RefusedYAML, load_yaml
from synapse_sdk.plugins.categories import CATEGORIES, METHODS, Category, Method

CONFIG_FILE = "config.yaml"
#: Anchored with ``\A``/``\Z``, so that ``.match`` is a full match: ``$`` also matches before a
#: final newline, which let "my-plugin\n" and "1.0.0\n" through.
SLUG = re.compile(r"\A[a-z0-9]+(?:[-_][a-z0-9]+)*\Z")
SEMVER = re.compile(
    r"\A(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\Z",
    re.ASCII,  # \d is 0-9 only: '١.٠.٠' is not a version
)
#: Longest version and code accepted: any real one fits; a 4,300-digit version broke sorting.
MAX_VERSION = 64
MAX_CODE = 100
ENTRYPOINT = re.compile(r"\A[A-Za-z_]\w*(\.[A-Za-z_]\w*)+\Z")
ACTION_NAME = re.compile(r"\A[A-Za-z_][\w-]*\Z")
DEFAULT_PACKAGE_MANAGER_OPTIONS = {"uv": ["--no-cache"], "pip": ["--upgrade"]}


class AutoscalingConfig(BaseModel):
    """``actions.<name>.autoscaling``: how Ray Serve scales a restapi action's replicas."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_replicas: int = Field(1, ge=0)
    max_replicas: int = Field(1, ge=1)
    target_ongoing_requests: float = Field(2.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> AutoscalingConfig:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas ({self.min_replicas}) must not exceed max_replicas ({self.max_replicas})"
            )
        return self


#: What may end a try and have it tried again: the worker dying (``crash``), the action raising (``error``).
RetryOn = Literal["crash", "error"]


class RetryConfig(BaseModel):
    """``actions.<name>.retry``: how many times a job's action is tried, and after what, under one run.

    As Ray's task retries: by default only a crash (the worker killed or dying, a non-zero exit
    that is not the action's own error) is tried again; ``on: [crash, error]`` also retries an
    action that raised. Bad input (invalid params, exit code 2) is never retried. Every try runs
    under the same run id and run folder (``run.path``), so what a try saved is there for the next.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=1, ge=1, le=MAX_ATTEMPTS)
    on: tuple[RetryOn, ...] = ("crash",)

    @model_validator(mode="before")
    @classmethod
    def _bare_on(cls, data: Any) -> Any:
        """YAML 1.1 reads a bare ``on:`` key as ``true``: take it back as the key it was written as."""
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if key is True else key): value for key, value in data.items()}
        return data

    @model_validator(mode="after")
    def _something_retried(self) -> RetryConfig:
        if not self.on:
            raise ValueError("on: name what is retried, like [crash] or [crash, error]")
        return self

    def allows(self, outcome: RetryOn, attempt: int) -> bool:
        """True if a try numbered ``attempt`` that ended by ``outcome`` is followed by another."""
        return attempt < self.max_attempts and outcome in self.on


class ActionConfig(BaseModel):
    """One entry of ``actions:``: where the action's class is and how it runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entrypoint: str
    #: Which methods this action may use depends on its category and name (``CATEGORIES``).
    method: Method = "job"
    description: str = ""
    #: Ray resources per run (job, task) or per replica (restapi); flags override them.
    num_cpus: float | None = Field(None, ge=0)
    num_gpus: float | None = Field(None, ge=0)
    #: Ray Serve replicas of a restapi action: a fixed count, or ``autoscaling`` bounds.
    num_replicas: int | None = Field(None, ge=1)
    autoscaling: AutoscalingConfig | None = None
    #: How many times a job is tried before its run fails (default: once).
    retry: RetryConfig = RetryConfig()

    @model_validator(mode="after")
    def _one_scaling(self) -> ActionConfig:
        if self.num_replicas is not None and self.autoscaling is not None:
            raise ValueError("set either num_replicas or autoscaling, not both")
        if self.retry.max_attempts > 1 and self.method != "job":
            raise ValueError(
                f"retry: only job actions are tried again, this one is {self.method}; "
                "use method: job or remove retry"
            )
        return self

    @field_validator("entrypoint")
    @classmethod
    def _dotted_path(cls, value: str) -> str:
        if not ENTRYPOINT.fullmatch(value):
            raise ValueError(
                f"expected a dotted path to a class like 'plugin.train.TrainAction', got {value!r}"
            )
        return value

    @property
    def module(self) -> str:
        """The module part of the entrypoint."""
        return self.entrypoint.rpartition(".")[0]

    @property
    def class_name(self) -> str:
        """The class part of the entrypoint."""
        return self.entrypoint.rpartition(".")[2]


class PluginConfig(BaseModel):
    """A plugin's metadata and actions, exactly the keys of the spec's ``config.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str
    version: str
    category: Category
    description: str = ""
    package_manager: Literal["pip", "uv"] = "pip"
    package_manager_options: list[str] = Field(default_factory=list)
    actions: dict[str, ActionConfig]

    @field_validator("code")
    @classmethod
    def _slug(cls, value: str) -> str:
        if len(value) > MAX_CODE:
            raise ValueError(f"expected a code of at most {MAX_CODE} characters, got {len(value)}")
        if not SLUG.fullmatch(value):
            raise ValueError(
                f"expected a slug of lowercase letters, digits, '-' or '_' like 'my-plugin', got {value!r}"
            )
        return value

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if len(str(value)) > MAX_VERSION:
            raise ValueError(f"expected a version of at most {MAX_VERSION} characters, got {len(str(value))}")
        if not SEMVER.fullmatch(str(value)):
            raise ValueError(f"expected a semantic version like '1.0.0', got {value!r}")
        return str(value)

    @field_validator("actions")
    @classmethod
    def _some_actions(cls, value: dict[str, ActionConfig]) -> dict[str, ActionConfig]:
        if not value:
            raise ValueError("expected at least one action, like 'train: {entrypoint: ...}'")
        for name in value:
            if not ACTION_NAME.fullmatch(name):
                raise ValueError(f"action name {name!r} must be letters, digits, '_' or '-'")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _allowed_methods(cls, data: Any, handler: ModelWrapValidatorHandler[PluginConfig]) -> PluginConfig:
        """Refuse a method the category does not allow for an action, alongside every other error."""
        refused = _refused_methods(data)
        try:
            config = handler(data)
        except ValidationError as exc:
            if not refused:
                raise
            raise ValidationError.from_exception_data(exc.title, [*_as_init(exc), *refused]) from None
        if refused:
            raise ValidationError.from_exception_data(cls.__name__, refused)
        return config

    @model_validator(mode="before")
    @classmethod
    def _default_options(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("package_manager_options") is None:
            manager = data.get("package_manager", "pip")
            data = {
                **data,
                "package_manager_options": list(DEFAULT_PACKAGE_MANAGER_OPTIONS.get(manager, [])),
            }
        return data

    @property
    def uri(self) -> str:
        """``code@version``, the way releases are named."""
        return f"{self.code}@{self.version}"

    def get_action(self, name: str) -> ActionConfig:
        """Return the named action or raise ``ActionNotFound`` listing the plugin's actions."""
        from synapse_sdk.errors import ActionNotFound

        try:
            return self.actions[name]
        except KeyError:
            raise ActionNotFound(
                f"plugin {self.code!r} has no action {name!r}{did_you_mean(name, self.actions)}; "
                f"its actions are: {', '.join(self.actions)}"
            ) from None

    @classmethod
    def from_dict(cls, data: Any, source: str = CONFIG_FILE) -> PluginConfig:
        """Validate a mapping; on failure raise ``ConfigError`` with one line per problem."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping of keys like 'code: my-plugin'")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = cap_problems([f"{source}: {line}" for line in describe_errors(exc, data)], source)
            raise ConfigError("\n".join(problems), problems) from None

    @classmethod
    def load(cls, path: str | Path) -> PluginConfig:
        """Read ``config.yaml`` from a plugin folder (or the file itself) and validate it."""
        file, data = read_config_file(path)
        return cls.from_dict(data, source=str(file))


def read_config_file(path: str | Path) -> tuple[Path, Any]:
    """The config file of a plugin folder (or the file itself) and its parsed, unvalidated YAML.

    Raises ``ConfigError`` (one line naming the file and the fix) if the file is missing,
    unreadable, larger than ``MAX_CONFIG_BYTES``, not UTF-8, not valid YAML, or uses what a
    config never needs (a key twice, deep nesting, an alias bomb: see ``plugins._yaml``).
    """
    path = Path(path)
    file = path / CONFIG_FILE if path.is_dir() else path
    if not file.is_file():
        raise ConfigError(
            f"{file}: not found; run this in a plugin folder or pass --path DIR "
            "(create one with 'synapse plugin create')"
        )
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read it: {exc.strerror or exc}; check its permissions") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{file}: larger than {MAX_CONFIG_BYTES >> 10} KiB; a config.yaml holds metadata and actions, "
            "keep data in files of the plugin"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{file}: line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8; save the file as UTF-8 "
            "(your editor's encoding setting, or iconv -f latin1 -t utf-8)"
        ) from None
    try:
        return file, load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if not isinstance(exc, RefusedYAML):
            problem = f"invalid YAML: {problem}; fix the syntax"
        raise ConfigError(f"{file}:{where} {problem}") from None
    except RecursionError:  # deep nesting is refused while composing; this is the last guard
        raise ConfigError(f"{file}: nested too deeply; a config needs a few levels") from None


#: Bounds of what config.yaml may be, far above any real plugin's config.
MAX_CONFIG_BYTES = 256 << 10
#: At most this many problems are listed; the rest are counted in one more line.
MAX_PROBLEMS = 20
MAX_PROBLEM_CHARS = 1000


#: Every character ``str.splitlines`` breaks at, as the escape that shows it.
_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


def one_line(text: str) -> str:
    """``text`` with every line break escaped (``\\n``, ``\\x0c``...): a key holding one cannot split
    a problem in two."""
    return text.translate(_LINE_BREAKS)


def cap_problems(problems: list[str], source: str) -> list[str]:
    """``problems`` on one line and clipped to ``MAX_PROBLEM_CHARS`` each, at most ``MAX_PROBLEMS``,
    the rest counted."""
    shown = [_clip(one_line(line), MAX_PROBLEM_CHARS) for line in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"{source}: ... and {len(problems) - MAX_PROBLEMS:,} more problem(s); fix these first")
    return shown


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def raw_category(data: Any) -> Category | None:
    """The category of unvalidated config data, or None if it is missing or not one of ours."""
    value = data.get("category") if isinstance(data, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return Category(value)
    except ValueError:
        return None


def _as_init(exc: ValidationError) -> list[InitErrorDetails]:
    """``exc``'s errors in the form ``ValidationError.from_exception_data`` takes back."""
    errors = []
    for err in exc.errors():
        init = InitErrorDetails(type=err["type"], loc=err["loc"], input=err["input"])
        if "ctx" in err:
            init["ctx"] = err["ctx"]
        errors.append(init)
    return errors


def _refused_methods(data: Any) -> list[InitErrorDetails]:
    """Errors for actions whose (otherwise valid) method their category does not allow."""
    category = raw_category(data)
    actions = data.get("actions") if isinstance(data, dict) else None
    if category is None or not isinstance(actions, dict):
        return []
    default = ActionConfig.model_fields["method"].default
    refused: list[InitErrorDetails] = []
    for name, entry in actions.items():
        method = entry.get("method", default) if isinstance(entry, dict) else getattr(entry, "method", None)
        allowed = CATEGORIES[category].methods_for(str(name))
        if method in METHODS and method not in allowed:
            serving = [c.value for c, spec in CATEGORIES.items() if method in spec.methods_for(str(name))]
            where = f" ({method} is for {' and '.join(serving)} plugins)" if serving else ""
            message = (
                f"{category.value} plugins cannot use {method!r}; use one of {', '.join(allowed)}{where}"
            )
            refused.append(
                InitErrorDetails(
                    type="value_error", loc=("actions", name, "method"), input=method, ctx={"error": message}
                )
            )
    return refused


def describe_errors(exc: ValidationError, data: Any = None, prefix: str = "") -> list[str]:
    """Turn pydantic errors into ``key.path: what was wrong`` lines a user can act on.

    Values are shown, except where they may be secrets: under a secret-looking key the value is
    ``***``, and every secret of ``data`` (and URL password) is masked in the lines.
    """
    masker = Masker(secret_values(data) if isinstance(data, dict) else ())
    return [masker.text(line) for line in _error_lines(exc, data, prefix)]


def _error_lines(exc: ValidationError, data: Any, prefix: str) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        key = f"{prefix}{loc}" if loc else prefix.rstrip(".") or "(root)"
        kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
        if any(isinstance(part, str) and is_secret_key(part) for part in err["loc"]):
            value = _Shown(MASK)
        else:
            value = redact(value)
        if kind == "extra_forbidden":
            allowed = _allowed_keys(err["loc"])
            hint = did_you_mean(str(err["loc"][-1]), allowed)
            msg = f"unknown key{hint}; allowed keys: {', '.join(allowed)}" if allowed else "unknown key"
        elif kind == "missing":
            msg = "required key is missing"
        elif kind in ("literal_error", "enum"):
            choices = _choices(err["loc"], ctx, data)
            shown = ", ".join(choices)
            msg = f"expected one of {shown}, got {value!r}{did_you_mean(str(value), choices)}"
        elif kind == "value_error":
            msg = str(ctx.get("error", err["msg"]))
        else:
            msg = f"{err['msg'][0].lower()}{err['msg'][1:]}, got {value!r}"
        lines.append(f"{key}: {msg}")
    return lines


class _Shown(str):
    """A value shown as it is (``***``, not ``'***'``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = PluginConfig
    if len(loc) >= 3 and loc[0] == "actions":
        nested: dict[str, type[BaseModel]] = {"autoscaling": AutoscalingConfig, "retry": RetryConfig}
        model = nested.get(str(loc[2]), ActionConfig) if len(loc) >= 4 else ActionConfig
    return list(model.model_fields)


def _choices(loc: tuple[Any, ...], ctx: dict[str, Any], data: Any) -> list[str]:
    if loc and loc[-1] == "category":
        return [c.value for c in Category]
    if len(loc) == 3 and loc[0] == "actions" and loc[-1] == "method":
        category = raw_category(data)
        return list(CATEGORIES[category].methods_for(str(loc[1])) if category else METHODS)
    if loc and loc[-1] == "package_manager":
        return ["pip", "uv"]
    return [s.strip(" '") for s in re.split(r",| or ", str(ctx.get("expected", ""))) if s.strip()]
