"""``synapse plugin run`` itself, free of typer so the command's fast path can call it directly."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def parse_envs(values: list[str] | None) -> dict[str, str]:
    """``--env KEY=VALUE`` options as a dict."""
    from synapse_sdk.errors import UsageError

    envs = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--env {item!r}: expected KEY=VALUE, like --env MODEL_DIR=/models")
        envs[key] = value
    return envs


def run_plugin_action(
    action: str,
    params: str | None = None,
    *,
    plugin: str | None = None,
    debug: bool = False,
    job_id: str | None = None,
    path: Path | None = None,
    env: list[str] | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    ray_address: str | None = None,
    num_cpus: float | None = None,
    num_gpus: float | None = None,
) -> None:
    """Run ACTION of a plugin with PARAMS (JSON) and print its result as JSON; 'serve' serves it."""
    from synapse_sdk.cli._json import dumps
    from synapse_sdk.cli.serve import SERVE

    if job_id is not None and debug:
        from synapse_sdk.errors import UsageError

        raise UsageError(
            "--job-id and --debug: --debug runs the local code in this process and waits for it, "
            "--job-id submits a background job; drop one"
        )

    if action == SERVE and not job_id and ray_address and not debug:
        from synapse_sdk.cli.serve import deploy_on_ray

        deploy_on_ray(path=path, plugin=plugin, host=host, port=port, envs=parse_envs(env),
                      address=ray_address, num_cpus=num_cpus, num_gpus=num_gpus)  # fmt: skip
        return
    if action == SERVE:
        from synapse_sdk.cli.serve import serve_plugin

        serve_plugin(path=path, plugin=plugin, host=host, port=port, envs=parse_envs(env), debug=debug,
                     job_id=job_id, params=params)  # fmt: skip
        return
    from synapse_sdk.execution import get_executor
    from synapse_sdk.execution.runner import parse_params, prepare
    from synapse_sdk.settings import Settings

    settings = Settings.from_env()
    if ray_address:
        from dataclasses import replace

        settings = replace(settings, ray_address=ray_address)
    if job_id is not None:
        from synapse_sdk.execution.local.jobs import check_job_id

        check_job_id(job_id)
    prepared = prepare(
        action, parse_params(params), path=path, plugin=plugin, run_id=job_id, envs=parse_envs(env),
        home=str(settings.home), debug=debug, local_env=not settings.ray_address,
    )  # fmt: skip
    executor = get_executor(
        prepared.config.actions[action].method, settings, debug=debug, background=bool(job_id),
        num_cpus=num_cpus, num_gpus=num_gpus,
    )  # fmt: skip
    if job_id:
        executor.submit(prepared)
        print(dumps({"job_id": job_id, "status": "PENDING"}))
        print(f"submitted job {job_id}; follow it with 'synapse job logs {job_id} --follow'",
              file=sys.stderr)  # fmt: skip
        return
    _run_foreground(prepared, executor, settings)


def _run_foreground(prepared: Any, executor: Any, settings: Any) -> None:
    from synapse_sdk.cli._render import make_renderer
    from synapse_sdk.errors import ExecutionError

    renderer = make_renderer(prepared.action_class.progress_categories)
    run_id = prepared.invocation.run_id
    try:
        result = executor.run(prepared, [renderer])
    except Exception as exc:
        from synapse_sdk.errors import SynapseError

        if isinstance(exc, SynapseError) and (exc.exit_code == 2 or getattr(exc, "run_id", None)):
            raise  # bad input, or an executor's own message about the run
        if not _recorded(settings, run_id):  # never point at a run the store does not hold
            if isinstance(exc, SynapseError):
                raise  # e.g. a broken home's BackendError: it names the file and the fix
            raise ExecutionError(
                f"action {prepared.invocation.action!r} could not start: {type(exc).__name__}: {exc}"
            ) from exc
        raise ExecutionError(
            f"action {prepared.invocation.action!r} failed: {type(exc).__name__}: {exc} "
            f"(run {run_id}; see 'synapse job logs {run_id}')",
            run_id=run_id,
        ) from exc
    finally:
        renderer.close()
    from synapse_sdk.cli._json import dumps

    print(dumps(result, indent=2))
    print(f"run {run_id} succeeded; see 'synapse job get {run_id}'", file=sys.stderr)


def _recorded(settings: Any, run_id: str) -> bool:
    """Whether the store holds run ``run_id``; False too when the store itself cannot be read."""
    from synapse_sdk.backend import get_backend
    from synapse_sdk.errors import SynapseError

    try:
        get_backend(settings).runs.get_run(run_id)
    except SynapseError:  # RunNotFound, or the BackendError of a broken home or an unreachable server
        return False
    return True
