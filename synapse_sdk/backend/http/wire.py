"""How an ``EventBatch`` travels as JSON to the server (``POST /runs/{id}/events``, read by ``EventsIn``)."""

from __future__ import annotations

from typing import Any

from synapse_sdk.backend.schemas import EventBatch


def batch_to_json(batch: EventBatch, batch_id: str) -> dict[str, Any]:
    """The request body of ``POST /runs/{id}/events``; ``batch_id`` makes a retried post idempotent."""
    return {
        "batch_id": batch_id,
        "logs": [list(row) for row in batch.logs],
        "progress": {cat: list(value) for cat, value in batch.progress.items()},
        "metrics": [list(row) for row in batch.metrics],
        "heartbeat": batch.heartbeat,
        "started": batch.started,
    }
