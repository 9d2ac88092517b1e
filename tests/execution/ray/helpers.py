"""Helpers shared by the Ray tests: rewrite a plugin's config, wait for a run to end."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def set_action(plugin: Path, method: str, extra: str = "") -> None:
    """Make the demo plugin's ``train`` action use ``method`` (plus extra config lines)."""
    config = plugin / "config.yaml"
    text = config.read_text().replace('method: "job"', f'method: "{method}"')
    config.write_text(text + extra)


def wait_for_end(store: Any, run_id: str, timeout: float = 90.0) -> Any:
    """Poll (with ``jobs.refresh``, as ``synapse job get`` does) until the run is terminal."""
    from synapse_sdk.execution.base import reconcile

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = reconcile(store, store.get_run(run_id))
        if record.status.is_terminal:
            return record
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} still {store.get_run(run_id).status} after {timeout}s")


def wait_until(predicate: Any, timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
