"""``HttpBackend``: the run store's methods over HTTP, for workers that report to a remote server.

Same methods as :class:`~synapse_sdk.backend.store.runs.RunStore`, so ``BackendSink``,
``Action.run_action`` and the ``synapse job`` commands work unchanged. Connection failures
and 502/503/504 answers are retried with exponential backoff for up to ``retry_for`` seconds
(an event post carries a batch id, so a retry the server already stored is not stored twice;
a create or transition resent after a broken connection is recognised when it already took);
then, and for every other failure, httpx's exception becomes a ``BackendError`` (or
``RunNotFound`` / ``RunConflict`` for 404 / 409) raised ``from`` the original.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from synapse_sdk.backend.schemas import EventBatch, LogEntry, NewRun, RunRecord, RunStatus
from synapse_sdk.backend.wire import batch_to_json
from synapse_sdk.errors import BackendError, RunConflict, RunNotFound, SynapseError, UsageError

#: Seconds a request keeps retrying an unreachable server (``SYNAPSE_HTTP_RETRY_SECONDS``).
DEFAULT_RETRY_FOR = 30.0
_RETRY_STATUS = {502, 503, 504}
_ERRORS: dict[str, type[SynapseError]] = {
    "RunNotFound": RunNotFound,
    "RunConflict": RunConflict,
    "UsageError": UsageError,
}


class HttpBackend:
    """A client of ``synapse backend serve`` with the ``RunStore`` interface."""

    def __init__(
        self,
        host: str,
        token: str | None,
        *,
        timeout: float = 10.0,
        retry_for: float | None = None,
        transport: Any = None,
    ) -> None:
        import httpx

        if not token:
            raise UsageError(
                f"SYNAPSE_HOST is {host!r} but SYNAPSE_ACCESS_TOKEN is not set; "
                "set it to the token the backend server was started with"
            )
        self.host = host.rstrip("/")
        if retry_for is None:
            retry_for = float(os.environ.get("SYNAPSE_HTTP_RETRY_SECONDS") or DEFAULT_RETRY_FOR)
        self.retry_for = retry_for
        self._local = threading.local()  # per thread: whether the last request may have been sent twice
        self._client = httpx.Client(
            base_url=self.host,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"HttpBackend({self.host!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> HttpBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request, retrying while the server is unreachable; return the JSON answer."""
        import httpx

        if "json" in kwargs:  # results and event data may hold dates, paths...: str() them
            kwargs["content"] = json.dumps(kwargs.pop("json"), default=str)
            kwargs["headers"] = {"Content-Type": "application/json"}
        deadline = time.monotonic() + self.retry_for
        delay = 0.05
        self._local.resent = False
        while True:
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                # The request may have reached the server before the connection broke.
                self._local.resent = not isinstance(exc, httpx.ConnectError) or self._local.resent
                if time.monotonic() + delay < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
                raise BackendError(
                    f"backend {self.host} unreachable after {self.retry_for:g}s: "
                    f"{type(exc).__name__}: {exc}; is 'synapse backend serve' running there "
                    "(check SYNAPSE_HOST)?"
                ) from exc
            if response.status_code in _RETRY_STATUS and time.monotonic() + delay < deadline:
                self._local.resent = True
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if response.is_success:
                return response.json()
            self._raise(method, path, response)

    def _raise(self, method: str, path: str, response: Any) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        detail = body.get("detail") if isinstance(body, dict) else None
        if response.status_code == 401:
            raise BackendError(
                f"backend {self.host} rejected the access token (401); set SYNAPSE_ACCESS_TOKEN "
                "to the token the server was started with"
            )
        error = _ERRORS.get(body.get("error", "") if isinstance(body, dict) else "")
        if error is not None:
            raise error(str(detail))
        if isinstance(detail, list):  # FastAPI's 422 field errors
            detail = "; ".join(
                f"{'.'.join(str(p) for p in e.get('loc', []))}: {e.get('msg')}" for e in detail
            )
        raise BackendError(
            f"backend {self.host}: {method} {path} failed with {response.status_code}: "
            f"{detail or response.text}"
        )

    # -- runs -----------------------------------------------------------------------------------

    def create_run(self, new: NewRun, status: RunStatus = RunStatus.PENDING) -> RunRecord:
        """Create a run; ``RunConflict`` if the id is taken."""
        try:
            data = self._request(
                "POST", "/runs", params={"status": RunStatus(status).value}, json=new.model_dump(mode="json")
            )
        except RunConflict:
            if self._local.resent:  # our own first attempt got through before the connection broke
                existing = self.get_run(new.id)
                if (existing.action, existing.params) == (new.action, new.params):
                    return existing
            raise
        return RunRecord.model_validate(data)

    def transition(self, run_id: str, expected: Iterable[RunStatus], new: RunStatus, **fields: Any) -> bool:
        """Compare-and-set the status; True if it moved."""
        body = {
            "expected": [RunStatus(s).value for s in expected],
            "new": RunStatus(new).value,
            "fields": fields,
        }
        moved = bool(self._request("POST", f"/runs/{run_id}/transition", json=body)["moved"])
        if not moved and self._local.resent:  # the first attempt may have moved it already
            return self.get_run(run_id).status is RunStatus(new)
        return moved

    def update(self, run_id: str, **fields: Any) -> None:
        """Set bookkeeping fields without touching the status."""
        if fields:
            self._request("PATCH", f"/runs/{run_id}", json={"fields": fields})

    def run_status(self, run_id: str) -> RunStatus | None:
        """The status of a run, or None if there is no such run."""
        try:
            return self.get_run(run_id).status
        except RunNotFound:
            return None

    def get_run(self, run_id: str) -> RunRecord:
        """One run; ``RunNotFound`` if there is none."""
        return RunRecord.model_validate(self._request("GET", f"/runs/{run_id}"))

    def list_runs(self, limit: int = 50, status: RunStatus | None = None) -> list[RunRecord]:
        """The newest runs first."""
        params: dict[str, Any] = {"limit": limit}
        if status is not None:
            params["status"] = RunStatus(status).value
        return [RunRecord.model_validate(r) for r in self._request("GET", "/runs", params=params)]

    def pid_started(self, run_id: str) -> str | None:
        """The start-time fingerprint recorded with the worker pid."""
        value = self._request("GET", f"/runs/{run_id}/pid_started")["pid_started"]
        return None if value is None else str(value)

    # -- events ---------------------------------------------------------------------------------

    def write_events(self, run_id: str, batch: EventBatch) -> bool:
        """Post one batch (retried with the same batch id: stored at most once); True: stop the run."""
        body = batch_to_json(batch, uuid.uuid4().hex)
        return bool(self._request("POST", f"/runs/{run_id}/events", json=body).get("stop_requested"))

    def get_logs(self, run_id: str, after: int = 0, limit: int | None = None) -> list[LogEntry]:
        """Log entries above sequence number ``after``, oldest first."""
        params: dict[str, Any] = {"after": after}
        if limit is not None:
            params["limit"] = limit
        entries = self._request("GET", f"/runs/{run_id}/logs", params=params)
        return [LogEntry.model_validate(e) for e in entries]

    def count_logs(self, run_id: str) -> int:
        """How many log entries a run has."""
        return int(self._request("GET", f"/runs/{run_id}/logs/count")["count"])

    def metric_history(self, run_id: str, category: str | None = None) -> list[dict[str, Any]]:
        """Every ``set_metrics`` call of a run, oldest first."""
        params = {"category": category} if category is not None else {}
        return list(self._request("GET", f"/runs/{run_id}/metrics", params=params))
