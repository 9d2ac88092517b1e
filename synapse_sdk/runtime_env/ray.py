"""An action's ``get_runtime_env()`` as a Ray ``runtime_env`` dict (pip or uv, env vars, working_dir).

``Action.get_runtime_env()`` returns ``{"env_vars": {...}, "pip": {"packages": [...],
"pip_install_options": [...]}, "working_dir": "/plugin"}``; plugin authors extend it (the spec
appends to ``env["pip"]["packages"]``). Ray wants the packages under ``pip`` or ``uv``
depending on the plugin's ``package_manager``, string env values, and no empty fields.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from synapse_sdk.errors import ConfigError

#: Never shipped with the plugin folder: local environments, caches, VCS data.
EXCLUDES = [".git", ".venv", "venv", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache"]
#: Keys of ``get_runtime_env()`` handled here; any other key is passed to Ray as it is.
_OWN_KEYS = {"env_vars", "pip", "uv", "working_dir", "excludes"}


def to_ray_runtime_env(
    env: Mapping[str, Any],
    package_manager: str = "pip",
    *,
    extra_env_vars: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Translate an action's runtime env into Ray's; ``package_manager`` is ``pip`` or ``uv``.

    ``extra_env_vars`` (e.g. the backend settings) are added to the action's own env vars.
    """
    if package_manager not in ("pip", "uv"):
        raise ConfigError(f"package_manager: expected 'pip' or 'uv', got {package_manager!r}")
    ray_env: dict[str, Any] = {k: v for k, v in env.items() if k not in _OWN_KEYS and v is not None}
    env_vars = {str(k): str(v) for k, v in dict(env.get("env_vars") or {}).items()}
    env_vars.update({str(k): str(v) for k, v in dict(extra_env_vars or {}).items()})
    if env_vars:
        ray_env["env_vars"] = env_vars
    packages, options = _packages(env.get("pip")) if env.get("pip") is not None else ([], [])
    if env.get("uv") is not None:
        uv_packages, uv_options = _packages(env["uv"])
        packages, options = packages + uv_packages, options + uv_options
        package_manager = "uv"
    if packages:
        if package_manager == "uv":
            ray_env["uv"] = {"packages": packages, "uv_pip_install_options": options}
        else:
            ray_env["pip"] = {"packages": packages, "pip_install_options": options}
    if env.get("working_dir"):
        ray_env["working_dir"] = str(env["working_dir"])
        ray_env["excludes"] = [*EXCLUDES, *list(env.get("excludes") or [])]
    return ray_env


def backend_env_vars(settings: Any) -> dict[str, str]:
    """The env vars that make a Ray worker report to the same backend as ``settings``.

    Not the access token: Ray's dashboard and state API show every runtime-env variable. The
    token travels beside the runtime env (``backend_secrets``), in what each executor ships.
    """
    values = {"SYNAPSE_HOME": str(settings.home), "SYNAPSE_HOST": settings.host}
    return {k: v for k, v in values.items() if v}


def backend_secrets(settings: Any) -> dict[str, str]:
    """The secret env vars a Ray worker sets itself to reach the backend: the access token."""
    return {"SYNAPSE_ACCESS_TOKEN": settings.access_token} if settings.access_token else {}


def upload_working_dir(ray_env: dict[str, Any]) -> dict[str, Any]:
    """Upload a local ``working_dir`` to the connected cluster and return the env naming its URI.

    Ray uploads a job's ``working_dir`` itself, but a task's runtime env must name a URI. This
    uses the same (private) helper ``ray.init`` uses, so the package is content-addressed and
    uploaded once per content. Call it after ``ray.init``. The zip is made in a temporary folder:
    the helper's default, the current folder, may be the working dir itself, and a zip written
    into the folder it packs grows until the disk is full.
    """
    if not ray_env.get("working_dir") or "://" in str(ray_env["working_dir"]):
        return ray_env
    from ray._private.runtime_env.working_dir import upload_working_dir_if_needed

    with tempfile.TemporaryDirectory(prefix="synapse-ray-pkg-") as scratch:
        uploaded = upload_working_dir_if_needed(
            dict(ray_env),
            include_gitignore=os.environ.get("RAY_RUNTIME_ENV_IGNORE_GITIGNORE", "0") != "1",
            scratch_dir=scratch,
            logger=logging.getLogger(__name__),
        )
    uploaded.pop("excludes", None)
    return uploaded


def _packages(value: Any) -> tuple[list[str], list[str]]:
    """``{"packages": [...], "*_install_options": [...]}`` or a plain list -> (packages, options)."""
    if isinstance(value, list | tuple):
        return [str(p) for p in value], []
    if isinstance(value, Mapping):
        options = value.get("pip_install_options") or value.get("uv_pip_install_options") or []
        return [str(p) for p in value.get("packages") or []], [str(o) for o in options]
    raise ConfigError(
        f"get_runtime_env(): expected pip as {{'packages': [...], 'pip_install_options': [...]}} "
        f"or a list of requirements, got {type(value).__name__}"
    )
