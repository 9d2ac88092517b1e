"""``HttpRuns``: the runs resource over HTTP (``/runs``), with the embedded store's behaviour.

Requests that may be resent after a broken connection still take effect once: an event post
carries a batch id the server remembers, and a create or transition whose first attempt got
through is recognised from the run as stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from synapse_sdk.backend.http.transport import HttpTransport
from synapse_sdk.backend.http.wire import batch_to_json
from synapse_sdk.backend.schemas import RUN_ID, EventBatch, LogEntry, NewRun, RunRecord, RunStatus, read_run
from synapse_sdk.errors import BackendError, RunConflict, RunNotFound

if TYPE_CHECKING:
    from synapse_sdk.backend.store.feed import RunEvent

#: Seconds an event stream may be silent before the client reconnects (the server's keep-alive: 10).
STREAM_TIMEOUT = 30.0


def _url(run_id: str, tail: str = "") -> str:
    """The path of a run's endpoint; an id no run can have (``../releases``) is ``RunNotFound`` here,
    before it can name another endpoint."""
    if RUN_ID.fullmatch(run_id) is None:
        raise RunNotFound(
            f"no run or job with id {run_id[:40]!r}: run ids are 1-128 letters, digits, '.', '_' or '-'"
        )
    return f"/runs/{run_id}{tail}"


class HttpRuns:
    """The :class:`~synapse_sdk.backend.protocol.RunsResource` of a remote backend."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def __repr__(self) -> str:
        return f"HttpRuns({self._http.host!r})"

    def create_run(self, new: NewRun, status: RunStatus = RunStatus.PENDING) -> RunRecord:
        """Create a run; ``RunConflict`` if the id is taken."""
        try:
            data = self._http.call(
                "POST", "/runs", params={"status": RunStatus(status).value}, json=new.model_dump(mode="json")
            )
        except RunConflict:
            if self._http.resent:  # our own first attempt got through before the connection broke
                existing = self.get_run(new.id)
                if (existing.action, existing.params) == (new.action, new.params):
                    return existing
            raise
        return read_run(data)

    def transition(self, run_id: str, expected: Iterable[RunStatus], new: RunStatus, **fields: Any) -> bool:
        """Compare-and-set the status; True if it moved, ``RunNotFound`` if there is no such run."""
        body = {
            "expected": [RunStatus(s).value for s in expected],
            "new": RunStatus(new).value,
            "fields": fields,
        }
        moved = bool(self._http.call("POST", _url(run_id, "/transition"), json=body)["moved"])
        if not moved and self._http.resent:  # the first attempt may have moved it already
            return self.get_run(run_id).status is RunStatus(new)
        return moved

    def update(self, run_id: str, **fields: Any) -> None:
        """Set bookkeeping fields without touching the status; ``RunNotFound`` if there is no such run."""
        if fields:
            self._http.call("PATCH", _url(run_id), json={"fields": fields})

    def run_status(self, run_id: str) -> RunStatus | None:
        """The status of a run, or None if there is no such run."""
        try:
            return self.get_run(run_id).status
        except RunNotFound:
            return None

    def get_run(self, run_id: str) -> RunRecord:
        """One run; ``RunNotFound`` if there is none."""
        return read_run(self._http.call("GET", _url(run_id)))

    def list_runs(self, limit: int = 50, status: RunStatus | None = None) -> list[RunRecord]:
        """The newest runs first."""
        params: dict[str, Any] = {"limit": limit}
        if status is not None:
            params["status"] = RunStatus(status).value
        return [read_run(r) for r in self._http.call("GET", "/runs", params=params)]

    def page_runs(
        self,
        limit: int = 50,
        status: RunStatus | Iterable[RunStatus] | None = None,
        *,
        plugin: str | None = None,
        action: str | None = None,
        before: str | None = None,
        summary: bool = False,
    ) -> tuple[list[RunRecord], str | None]:
        """One page of runs, newest first, and the next page's cursor (see ``RunStore.page_runs``)."""
        wanted = None if status is None else [RunStatus(status).value] if isinstance(status, str) else [
            RunStatus(s).value for s in status
        ]  # fmt: skip
        params = {"limit": limit, "status": wanted, "plugin": plugin, "action": action, "before": before,
                  "summary": summary or None}  # fmt: skip
        response = self._http.request(
            "GET", "/runs", params={k: v for k, v in params.items() if v is not None}
        )
        try:
            records = [read_run(r) for r in response.json()]
        except ValueError:
            raise self._http.error_for("GET", "/runs", response) from None
        return records, response.headers.get("x-next-cursor")

    def events(
        self, run_id: str, *, log_tail: int | None = None, metric_tail: int | None = None
    ) -> Iterator[RunEvent]:
        """The run's live events (``GET /runs/{id}/events/stream``) until its ``end``; a stream
        that breaks off is opened again after the last event received, for ``retry_for`` seconds."""
        from synapse_sdk.backend.http.events import read_events

        path, after = _url(run_id, "/events/stream"), None
        params: dict[str, Any] = {"log_tail": log_tail, "metric_tail": metric_tail}
        while True:
            query = {"after": after} if after else {k: v for k, v in params.items() if v is not None}
            body = self._http.stream("GET", path, params=query, timeout=STREAM_TIMEOUT)
            try:
                for event in read_events(body):
                    after = event.id or after
                    yield event
                    if event.event == "end":
                        return
            except BackendError:  # broke off (or went silent): resume after what came
                continue
            finally:
                body.close()

    def pid_started(self, run_id: str) -> str | None:
        """The start-time fingerprint recorded with the worker pid."""
        value = self._http.call("GET", _url(run_id, "/pid_started"))["pid_started"]
        return None if value is None else str(value)

    def write_events(self, run_id: str, batch: EventBatch) -> bool:
        """Post one batch (retried with the same batch id: stored at most once); True: stop the run."""
        body = batch_to_json(batch, uuid.uuid4().hex)
        return bool(self._http.call("POST", _url(run_id, "/events"), json=body).get("stop_requested"))

    def get_logs(self, run_id: str, after: int = 0, limit: int | None = None) -> list[LogEntry]:
        """Log entries above sequence number ``after``, oldest first."""
        params: dict[str, Any] = {"after": after}
        if limit is not None:
            params["limit"] = limit
        entries = self._http.call("GET", _url(run_id, "/logs"), params=params)
        return [LogEntry.model_validate(e) for e in entries]

    def count_logs(self, run_id: str) -> int:
        """How many log entries a run has."""
        return int(self._http.call("GET", _url(run_id, "/logs/count"))["count"])

    def metric_history(self, run_id: str, category: str | None = None) -> list[dict[str, Any]]:
        """Every ``set_metrics`` call of a run, oldest first."""
        params = {"category": category} if category is not None else None
        return list(self._http.call("GET", _url(run_id, "/metrics"), params=params))
