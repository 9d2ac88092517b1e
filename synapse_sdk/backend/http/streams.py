"""``ResponseReader``: a streamed HTTP answer's body as a file, read a chunk at a time.

Downloads (:meth:`HttpTransport.stream`) hand it out wrapped in an ``io.BufferedReader``, so
``read(n)``, ``read()``, ``readline()`` and iteration all work while only a chunk is held in
memory; closing it closes the answer (and frees its connection). A transfer that breaks off
midway raises ours, saying how many bytes came, never httpx's.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import SynapseError

if TYPE_CHECKING:
    import httpx


class ResponseReader(io.RawIOBase):
    """The body of ``response``; ``close`` ends the answer, ``broken(exc, received)`` names a failure."""

    def __init__(
        self,
        response: httpx.Response,
        close: Callable[[], None],
        broken: Callable[[Exception, int], SynapseError],
    ) -> None:
        super().__init__()
        self._chunks = response.iter_bytes()
        self._close = close
        self._broken = broken
        self._pending = memoryview(b"")
        self._received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        import httpx

        while not self._pending:
            try:
                chunk = next(self._chunks, None)
            except httpx.RequestError as exc:  # the connection broke, timed out, or the body is garbled
                raise self._broken(exc, self._received) from exc
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        view = memoryview(buffer).cast("B")
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self._received += size
        return size

    def close(self) -> None:
        if not self.closed:
            self._close()
        super().close()
