"""Recording what an action does: ``Run`` and its sinks."""

from synapse_sdk.plugins.run.run import Run
from synapse_sdk.plugins.run.sinks import BackendSink, CallbackSink, MemorySink, RunSink

__all__ = [
    "BackendSink",
    "CallbackSink",
    "MemorySink",
    "Run",
    "RunSink",
]
