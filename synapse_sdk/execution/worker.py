"""``python -m synapse_sdk.execution.worker``: run one action from an invocation on stdin.

SIGTERM raises ``ActionStopped`` inside the action, which ends the run STOPPED with its logs.
Exit codes: 0 succeeded, 1 failed, 2 bad input, 143 stopped.
"""

from __future__ import annotations

import signal
import sys
import traceback
from types import FrameType

from synapse_sdk.errors import ActionStopped, SynapseError
from synapse_sdk.execution.invocation import Invocation


def _stop(signum: int, frame: FrameType | None) -> None:
    raise ActionStopped()


def main() -> int:
    """Run the invocation read from stdin."""
    invocation = Invocation.from_json(sys.stdin.read())
    signal.signal(signal.SIGTERM, _stop)
    from synapse_sdk.execution.local import run_in_process

    try:
        run_in_process(invocation, apply_env=True)
    except ActionStopped:
        return 143
    except SynapseError as exc:
        _fail_unstarted(invocation, str(exc), exc.exit_code)
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception:
        traceback.print_exc()
        return 1
    return 0


def _fail_unstarted(invocation: Invocation, error: str, exit_code: int) -> None:
    """A job that could not even start (bad config, bad params) still ends with its reason.

    The exit code is kept in the run's ``extra`` so a CLI following the job exits like one
    that checked the input itself (2 for bad input).
    """
    import time

    from synapse_sdk.backend import get_backend
    from synapse_sdk.backend.schemas import ACTIVE, RunStatus

    backend = get_backend()
    extra = {**backend.get_run(invocation.run_id).extra, "exit_code": exit_code}
    backend.transition(
        invocation.run_id, ACTIVE, RunStatus.FAILED, finished_at=time.time(), error=error, extra=extra
    )


if __name__ == "__main__":
    sys.exit(main())
