"""Server-sent events read from a streamed answer: the client side of ``/runs/.../events/stream``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from synapse_sdk.backend.store.feed import RunEvent


def read_events(lines: Iterable[bytes]) -> Iterator[RunEvent]:
    """The events of a text/event-stream body, a line at a time (comments skipped; an event whose
    data is not a JSON object is skipped too: ours always are)."""
    name, data, event_id = "message", list[str](), ""
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data:
                try:
                    value = json.loads("\n".join(data))
                except ValueError:
                    value = None
                if isinstance(value, dict):
                    yield RunEvent(name, event_id, value)
            name, data = "message", []
            continue
        if line.startswith(":"):
            continue
        field, _, value_text = line.partition(":")
        value_text = value_text.removeprefix(" ")
        if field == "event":
            name = value_text
        elif field == "data":
            data.append(value_text)
        elif field == "id":
            event_id = value_text
