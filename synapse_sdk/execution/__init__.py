"""Where actions run: ``get_executor`` picks the adapter for a method and a place."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synapse_sdk.execution.base import Executor
    from synapse_sdk.settings import Settings


def get_executor(method: str, settings: Settings, *, debug: bool = False) -> Executor:
    """The executor for an action ``method`` (job, task, restapi) under ``settings``.

    ``debug`` always runs the local code in this process. Without a Ray address every method
    runs on this machine.
    """
    from synapse_sdk.execution.local import LocalExecutor

    if method == "job" and not debug:
        from synapse_sdk.execution.subprocess_job import SubprocessJobExecutor

        return SubprocessJobExecutor(settings)
    return LocalExecutor(settings)
