"""Where actions run: ``get_executor`` picks the adapter for a method and a place."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synapse_sdk.execution.base import Executor
    from synapse_sdk.settings import Settings


def get_executor(
    method: str,
    settings: Settings,
    *,
    debug: bool = False,
    background: bool = False,
    num_cpus: float | None = None,
    num_gpus: float | None = None,
) -> Executor:
    """The executor for an action ``method`` (job, task, restapi) under ``settings``.

    ``debug`` always runs the local code in this process. Without a Ray address every method
    runs on this machine; with one, ``job`` goes to the Ray Jobs API and ``task`` (or a single
    ``restapi`` call) to a Ray task, with ``num_cpus``/``num_gpus`` overriding config.yaml.
    A ``background`` run must outlive the process that submits it, so on Ray it is a Ray job
    whatever its method (a Ray task dies with its owner).
    """
    if settings.ray_address and not debug:
        from synapse_sdk.execution.ray.job import RayJobExecutor
        from synapse_sdk.execution.ray.task import RayTaskExecutor

        cls = RayJobExecutor if method == "job" or background else RayTaskExecutor
        return cls(settings, settings.ray_address, num_cpus=num_cpus, num_gpus=num_gpus)
    if method == "job" and not debug:
        from synapse_sdk.execution.local.subprocess_job import SubprocessJobExecutor

        return SubprocessJobExecutor(settings)
    from synapse_sdk.execution.local.inprocess import LocalExecutor

    return LocalExecutor(settings)
