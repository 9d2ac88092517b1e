"""Building a release's environment as a visible phase of its run.

When a run's release needs its virtual environment built (seconds; minutes for torch), the run
is created PENDING before the build, so that it shows: a log entry ``building environment for
code@version (uv, N packages)…``, the progress category ``environment`` (0 of 1, then 1 of 1)
and ``environment for code@version ready in 12.3s``; the terminal prints the same lines, with
the elapsed time ticking on a terminal. A build that fails ends the run FAILED with the error,
which names the build log kept in the run's folder (``environment-build.log``). The executor
then adopts the PENDING run (:func:`synapse_sdk.execution.lifecycle.create`).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from synapse_sdk.backend.schemas import EventBatch

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import RunsResource
    from synapse_sdk.backend.schemas import NewRun, RunRecord

#: The progress category of the phase.
CATEGORY = "environment"
#: The key of ``extra`` a run created for the phase carries (``building``, then ``ready``).
EXTRA_KEY = "environment"
#: The key of ``extra`` holding the last log seq of the phase, which the terminal showed already.
SHOWN_KEY = "environment_log_seq"
#: The file in the run's folder holding the output of a build that failed.
BUILD_LOG = "environment-build.log"


class EnvPhase:
    """A :class:`~synapse_sdk.runtime_env.venv.BuildObserver` that records the build in run
    ``make().id`` of ``runs`` (created when a build starts) and prints it to ``out``."""

    def __init__(
        self, runs: RunsResource, make: Callable[[], NewRun], label: str, out: TextIO | None = None
    ) -> None:
        self.runs, self.make, self.label = runs, make, label
        self.out = out if out is not None else sys.stderr
        self.run_id: str | None = None
        self._ticking = threading.Event()
        self._ticker: threading.Thread | None = None

    def started(self, package_manager: str, packages: int) -> None:
        """Create the run PENDING and record the start of the phase."""
        from synapse_sdk.execution import lifecycle

        new = self.make()
        new = new.model_copy(update={"extra": {**new.extra, EXTRA_KEY: "building"}})
        lifecycle.create(self.runs, new)
        self.run_id = new.id
        noun = "package" if packages == 1 else "packages"
        text = f"building environment for {self.label} ({package_manager}, {packages} {noun})…"
        self._record("INFO", text, 0.0)
        if _is_terminal(self.out):
            self._ticker = threading.Thread(target=self._tick, args=(text, time.monotonic()), daemon=True)
            self._ticker.start()
        else:
            self._print(text)

    def finished(self, seconds: float) -> None:
        """Record the end of the phase; the run waits PENDING for its executor."""
        self._stop_ticking()
        text = f"environment for {self.label} ready in {seconds:.1f}s"
        self._record("INFO", text, 1.0)
        if self.run_id is not None:
            extra = self.runs.get_run(self.run_id).extra
            shown = self.runs.get_logs(self.run_id)[-1].seq  # the terminal has them: followers skip them
            self.runs.update(self.run_id, extra={**extra, EXTRA_KEY: "ready", SHOWN_KEY: shown})
        self._print(text)

    def failed(self, seconds: float, error: str) -> None:
        """Record the failure and end the run FAILED with ``error``."""
        from synapse_sdk.execution import lifecycle

        self._stop_ticking()
        self._record("ERROR", f"environment for {self.label} failed after {seconds:.1f}s: {error}", None)
        if self.run_id is not None:
            extra = self.runs.get_run(self.run_id).extra
            lifecycle.fail(self.runs, self.run_id, error, extra={**extra, EXTRA_KEY: "failed"})

    def _record(self, level: str, text: str, done: float | None) -> None:
        if self.run_id is None:
            return
        now = time.time()
        progress = {} if done is None else {CATEGORY: (done, 1.0, now)}
        self.runs.write_events(
            self.run_id, EventBatch(logs=[(now, level, text, None, None)], progress=progress)
        )

    def _print(self, text: str) -> None:
        if self._ticker is None or not self._ticker.is_alive():
            self.out.write(f"{text}\n")
            self.out.flush()

    def _tick(self, text: str, start: float) -> None:
        """On a terminal: the start line with the seconds so far, redrawn every 0.5 s."""
        while True:
            self.out.write(f"\r{text} {time.monotonic() - start:.0f}s")
            self.out.flush()
            if self._ticking.wait(0.5):
                break
        self.out.write("\n")
        self.out.flush()

    def _stop_ticking(self) -> None:
        if self._ticker is not None:
            self._ticking.set()
            self._ticker.join()
            self._ticker = None


def _is_terminal(out: Any) -> bool:
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def adopt(runs: RunsResource, new: NewRun) -> RunRecord | None:
    """The run ``new.id`` if a build of its environment created it and it still waits PENDING for
    this same action (its ``extra`` completed with ``new``'s); None for any other run of that id."""
    from synapse_sdk.backend.schemas import RunStatus

    existing = runs.get_run(new.id)
    if (
        existing.status is not RunStatus.PENDING or existing.extra.get(EXTRA_KEY) != "ready"
        or (existing.action, existing.plugin_code, existing.plugin_version)
        != (new.action, new.plugin_code, new.plugin_version)
    ):  # fmt: skip
        return None
    runs.update(new.id, extra={**existing.extra, **new.extra, EXTRA_KEY: "built"})
    return runs.get_run(new.id)
