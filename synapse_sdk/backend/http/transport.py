"""``HttpTransport``: the one connection to ``synapse backend serve`` that every HTTP resource uses.

It sends the token, retries and translates errors once for all resources:

* connection failures, timeouts and 502/503/504 answers are retried with exponential backoff
  for up to ``retry_for`` seconds (``SYNAPSE_HTTP_RETRY_SECONDS``, default 30); :attr:`resent`
  tells the caller its request may have reached the server more than once;
* then, and for every other failure, :meth:`HttpTransport.error_for` (an answer) or
  :meth:`HttpTransport.unreachable` (no answer) gives our exception, raised ``from`` httpx's if any.

The error map, case by case (``tests/backend/http/test_transport.py`` provokes each):

* 401: ``BackendError`` saying to set ``SYNAPSE_ACCESS_TOKEN``;
* a body naming one of our errors (``{"error": "RunNotFound", "detail": ...}``, see
  :data:`ERRORS`): that class with the detail (a ``BackendError`` also names the request);
* any other error status (400, 404, 409, 413, 422, 500; 502-504 once the retries are spent):
  ``BackendError`` with the request, the status, the detail (FastAPI's field errors joined)
  and what the status likely means;
* a body that is not JSON, error or success: ``BackendError`` with its start and content type;
* a streamed answer (:meth:`HttpTransport.stream`, downloads) that breaks off while it is read:
  ``BackendError`` saying how many bytes came and to read it again;
* a timeout, once the retries are spent: ``BackendError`` naming the timeout;
* any other transport error (refused, reset...), once the retries are spent: ``BackendError``
  asking whether ``synapse backend serve`` runs at ``SYNAPSE_HOST``.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, BinaryIO, Final

from synapse_sdk.errors import (
    ActionNotFound,
    AnnotationError,
    BackendError,
    ChecksumMismatch,
    ConfigError,
    EnvBuildError,
    ExecutionError,
    FileChecksumMismatch,
    ParamsError,
    PathOutsideRoot,
    PluginNotFound,
    ReleaseError,
    ResourceConflict,
    ResourceNotFound,
    RunConflict,
    RunNotFound,
    StorageError,
    SynapseError,
    UnsafeArchive,
    UsageError,
)

if TYPE_CHECKING:
    import httpx

#: Seconds a request keeps retrying an unreachable server (``SYNAPSE_HTTP_RETRY_SECONDS``).
DEFAULT_RETRY_FOR = 30.0
#: Answers of a server (or a proxy before it) that is restarting or overloaded: retried.
RETRY_STATUS: Final = frozenset({502, 503, 504})
#: Our errors by the name the server sends in an error body; every class of ``synapse_sdk.errors``.
ERRORS: Final[dict[str, type[SynapseError]]] = {
    cls.__name__: cls
    for cls in (
        SynapseError, ConfigError, ParamsError, AnnotationError, PluginNotFound, ActionNotFound, UsageError,
        ReleaseError, ChecksumMismatch, FileChecksumMismatch, UnsafeArchive, EnvBuildError, ExecutionError,
        RunNotFound, RunConflict, ResourceNotFound, ResourceConflict, BackendError, StorageError,
        PathOutsideRoot,
    )
}  # fmt: skip
#: What a status without one of our error names likely means.
_HINTS: Final[dict[int, str]] = {
    404: "no such endpoint: is SYNAPSE_HOST the address of 'synapse backend serve', of this SDK's version?",
    413: "the request is larger than the server, or a proxy before it, accepts",
    500: "the server failed; see its log",
    502: "a proxy before the server found it down",
    503: "the server is unavailable; is it restarting?",
    504: "a proxy before the server got no answer in time",
}
_NOT_OURS = "is SYNAPSE_HOST the address of 'synapse backend serve'?"
_BACKOFF_START, _BACKOFF_MAX = 0.05, 2.0


class HttpTransport:
    """Requests to ``host`` with ``Authorization: Bearer <token>``, retried, errors translated.

    ``transport`` is an httpx transport to send through (tests: ``httpx.MockTransport``, or
    one that loses a response); by default, the network.
    """

    def __init__(
        self,
        host: str,
        token: str | None,
        *,
        timeout: float = 10.0,
        retry_for: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        if not token:
            raise UsageError(
                f"SYNAPSE_HOST is {host!r} but SYNAPSE_ACCESS_TOKEN is not set; "
                "set it to the token the backend server was started with"
            )
        if not host.startswith(("http://", "https://")):
            raise UsageError(
                f"SYNAPSE_HOST is {host!r}, not an http(s) URL; set it like 'http://127.0.0.1:8000'"
            )
        self.host = host.rstrip("/")
        self.timeout = timeout
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
        return f"HttpTransport({self.host!r})"

    @property
    def resent(self) -> bool:
        """True if this thread's last request may have reached the server more than once."""
        return bool(getattr(self._local, "resent", False))

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request (see :meth:`request`) and return its JSON answer."""
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise self.error_for(method, path, response) from None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: bytes | str | BinaryIO | None = None,
        content_type: str = "application/octet-stream",
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send one request, retrying while the server is unreachable; return a successful answer.

        ``json`` is encoded with ``str()`` for what JSON cannot hold (dates, paths...); ``content``
        is sent as it is, labelled ``content_type`` (e.g. JSON its caller encoded): a binary file
        is streamed from where it stands to its end, a chunk at a time, and rewound there for each
        retry (it must be seekable); ``timeout`` overrides the transport's for this request (large
        uploads and downloads).
        """
        headers: dict[str, str] | None = None
        rewind: Callable[[], None] = _nothing
        if json is not None:
            content, headers = _dumps(json), {"Content-Type": "application/json"}
        elif isinstance(content, bytes | str):
            headers = {"Content-Type": content_type}
        elif content is not None:
            stream, start = content, content.tell()
            size = stream.seek(0, io.SEEK_END) - start
            headers = {"Content-Type": content_type, "Content-Length": str(size)}

            def rewind() -> None:
                stream.seek(start)

        def send() -> httpx.Response:
            rewind()
            return self._client.request(
                method, path, params=params, content=content, headers=headers,
                timeout=self.timeout if timeout is None else timeout,
            )  # fmt: skip

        return self._send(method, path, send)

    def stream(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, timeout: float | None = None
    ) -> BinaryIO:
        """Send one request like :meth:`request`; return its answer's body as a file read a chunk
        at a time as the caller reads it (close it when done: that closes the answer)."""
        answer = ExitStack()

        def send() -> httpx.Response:
            answer.close()  # an earlier attempt's answer
            return answer.enter_context(
                self._client.stream(
                    method, path, params=params, timeout=self.timeout if timeout is None else timeout
                )
            )

        try:
            response = self._send(method, path, send)
        except BaseException:
            answer.close()
            raise
        from synapse_sdk.backend.http.streams import ResponseReader

        def broken(exc: Exception, received: int) -> BackendError:
            return BackendError(
                f"backend {self.host}: {method} {path}: the answer broke off after {received} bytes "
                f"({type(exc).__name__}: {exc}); read it again"
            )

        return io.BufferedReader(ResponseReader(response, answer.close, broken), buffer_size=_CHUNK)

    def _send(self, method: str, path: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        """Call ``send`` until the server answers (backoff while it is unreachable or 502-504 for
        ``retry_for`` seconds); return a successful answer, else raise ours."""
        import httpx

        deadline = time.monotonic() + self.retry_for
        delay = _BACKOFF_START
        self._local.resent = False
        while True:
            try:
                response = send()
            except httpx.UnsupportedProtocol as exc:
                raise self.unreachable(method, path, exc) from exc
            except httpx.TransportError as exc:
                # The request may have reached the server, unless no connection was made.
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                self._local.resent = not never_sent or self.resent
                if time.monotonic() + delay < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, _BACKOFF_MAX)
                    continue
                raise self.unreachable(method, path, exc) from exc
            if response.status_code in RETRY_STATUS and time.monotonic() + delay < deadline:
                response.close()
                self._local.resent = True
                time.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX)
                continue
            if response.is_success:
                return response
            try:
                response.read()  # a streamed answer's body: what the error map reads
            except httpx.TransportError as exc:
                raise self.unreachable(method, path, exc) from exc
            finally:
                response.close()
            raise self.error_for(method, path, response)

    # -- the error map --------------------------------------------------------------------------

    def error_for(self, method: str, path: str, response: httpx.Response) -> SynapseError:
        """Our exception for an answer that is an error, or a success that is not JSON."""
        status = response.status_code
        if status == 401:
            return BackendError(
                f"backend {self.host} rejected the access token (401); set SYNAPSE_ACCESS_TOKEN "
                "to the token the server was started with"
            )
        try:
            body = response.json()
        except ValueError:
            text = " ".join(response.text.split())[:200]
            what = "answered" if response.is_success else "failed with"
            kind = response.headers.get("content-type", "no content type")
            return BackendError(
                f"backend {self.host}: {method} {path} {what} {status} and a body that is not JSON "
                f"({kind}: {text!r}); {self._hint(status) or _NOT_OURS}"
            )
        name = body.get("error") if isinstance(body, dict) else None
        detail = body.get("detail") if isinstance(body, dict) else body
        error = ERRORS.get(name) if isinstance(name, str) else None
        if error is not None and error not in (SynapseError, BackendError):
            return error(str(detail))
        if isinstance(detail, list):  # FastAPI's 422 field errors
            detail = "; ".join(
                f"{'.'.join(str(p) for p in e.get('loc', []))}: {e.get('msg')}"
                if isinstance(e, dict)
                else str(e)
                for e in detail
            )
        hint = "" if error is not None else self._hint(status)
        return BackendError(
            f"backend {self.host}: {method} {path} failed with {status}: {detail or response.text}"
            + (f" ({hint})" if hint else "")
        )

    def _hint(self, status: int) -> str:
        """What a status likely means ('' when it says it all)."""
        hint = _HINTS.get(status, "")
        return f"{hint}; retried for {self.retry_for:g}s" if status in RETRY_STATUS else hint

    def unreachable(self, method: str, path: str, exc: httpx.TransportError) -> BackendError:
        """Our exception for a request that got no answer, once the retries are spent."""
        import httpx

        if isinstance(exc, httpx.TimeoutException):
            return BackendError(
                f"backend {self.host}: {method} {path} timed out ({type(exc).__name__}: no answer within "
                f"the {self.timeout:g}s timeout, retried for {self.retry_for:g}s); the server is stuck or "
                "overloaded: check its log"
            )
        if isinstance(exc, httpx.UnsupportedProtocol):
            return BackendError(f"backend {self.host}: {exc}; set SYNAPSE_HOST like 'http://127.0.0.1:8000'")
        return BackendError(
            f"backend {self.host} unreachable after {self.retry_for:g}s: {type(exc).__name__}: {exc}; "
            "is 'synapse backend serve' running there (check SYNAPSE_HOST)?"
        )


#: One encoder for every request body (``json.dumps`` with options builds one per call).
_dumps = json.JSONEncoder(default=str).encode
#: Bytes a streamed answer is read by.
_CHUNK = 1 << 20


def _nothing() -> None:
    """What a request with nothing to rewind does before each attempt."""
