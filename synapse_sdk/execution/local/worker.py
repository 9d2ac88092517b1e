"""``python -m synapse_sdk.execution.local.worker``: run one action from an invocation on stdin.

SIGTERM raises ``ActionStopped`` inside the action, which ends the run STOPPED with its logs.
What the action prints becomes log entries of its run, and reaches the worker's output with
the run's secrets masked. Every way the worker can end is recorded. Exit codes: 0 succeeded,
1 failed, 2 bad input, 75 failed and left to be tried again (``attempts.RETRY_EXIT``), 143 stopped.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from types import FrameType

from synapse_sdk.errors import ActionStopped, SynapseError
from synapse_sdk.execution.invocation import Invocation


def _stop(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a second stop must not cut the cleanup short
    raise ActionStopped()


def _stop_self() -> None:
    """A stop asked through the store (from another host): the same path as SIGTERM."""
    os.kill(os.getpid(), signal.SIGTERM)


def main() -> int:
    """Run the invocation read from stdin."""
    return run_worker(Invocation.from_json(sys.stdin.read()), apply_env=True)


def run_worker(invocation: Invocation, *, apply_env: bool) -> int:
    """Run one invocation in a process of its own (a local worker or a Ray job's driver).

    Everything the process prints (the action's output, a traceback, ``Error: ...``) has the run's
    secrets masked before it reaches the worker's output file or the Ray driver's log.
    """
    from synapse_sdk._redact import Masker, secret_values
    from synapse_sdk.execution.output import masked_output

    secrets = secret_values(invocation.params, invocation.envs)
    with masked_output(Masker(secrets)):
        return _run(invocation, apply_env, secrets)


def _run(invocation: Invocation, apply_env: bool, secrets: list[str]) -> int:
    from synapse_sdk.execution.attempts import RETRY_EXIT, AttemptFailed
    from synapse_sdk.execution.local.inprocess import run_in_process

    signal.signal(signal.SIGTERM, _stop)
    try:
        run_in_process(invocation, apply_env=apply_env, capture_output=True, on_stop_requested=_stop_self)
    except ActionStopped:
        return 143
    except AttemptFailed as exc:
        traceback.print_exception(exc.__cause__ or exc)
        return RETRY_EXIT
    except SynapseError as exc:
        _fail_unstarted(invocation, str(exc), exc.exit_code, secrets)
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        traceback.print_exc()
        _fail_unstarted(invocation, f"{type(exc).__name__}: {exc}", 1, secrets)
        return 1
    return 0


def _fail_unstarted(invocation: Invocation, error: str, exit_code: int, secrets: list[str]) -> None:
    """A run that could not even start ends with its reason; one that started recorded its own end."""
    from synapse_sdk.backend import get_backend
    from synapse_sdk.execution.lifecycle import fail_before_start

    fail_before_start(get_backend().runs, invocation.run_id, error, exit_code, secrets)


if __name__ == "__main__":
    sys.exit(main())
