"""fsspec, s3fs, botocore and OS errors become one-line ``StorageError``s naming the storage and the fix.

``translate`` is total: anything it does not recognise still becomes a ``StorageError``
carrying the original type and message (chained ``from`` it by the caller).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any

from synapse_sdk.errors import StorageError

_CREDENTIAL_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "TokenRefreshRequired",
     "AuthorizationHeaderMalformed", "InvalidSecurity"}
)  # fmt: skip
# A HEAD request's 403 has no body, so no code: bad keys and missing permissions look alike.
_DENIED_CODES = frozenset({"AccessDenied", "AllAccessDisabled", "AccountProblem", "403", "Forbidden"})
_UNREACHABLE = (
    "EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError", "ReadTimeoutError",
    "ClientConnectorError", "ServerDisconnectedError", "ServerTimeoutError", "TimeoutError",
    "FSTimeoutError", "ProxyConnectionError", "SSLError",
)  # fmt: skip


@dataclass(frozen=True)
class Where:
    """What the message names: the storage, its provider, root (path or s3 URL) and endpoint."""

    storage: str
    provider: str
    root: str
    bucket: str | None = None
    endpoint: str | None = None

    @property
    def server(self) -> str:
        """The S3 server as a user knows it."""
        return self.endpoint or "AWS S3 (no endpoint_url)"


def translate(exc: BaseException, where: Where, action: str, key: str | None) -> StorageError:
    """The ``StorageError`` for ``exc``, raised while doing ``action`` on ``key`` (None: the root)."""
    if isinstance(exc, StorageError):
        return exc
    name = f"storage {where.storage!r}"
    target = f"{key!r}" if key else f"the root {where.root}"
    if where.provider == "s3":
        message = _s3_message(exc, where, name, action, target)
        if message:
            return StorageError(message)
    if isinstance(exc, FileNotFoundError):
        if key is None:
            return StorageError(f"{name}: the root {where.root} does not exist; create it or fix 'root'")
        return StorageError(f"{name}: no file {key!r}; check the key (list the storage to see what it holds)")
    if isinstance(exc, IsADirectoryError):
        return StorageError(f"{name}: {target} is a folder, not a file; name a file inside it")
    if isinstance(exc, NotADirectoryError | FileExistsError) and action == "write":
        return StorageError(
            f"{name}: cannot write {target}: a file stands where a folder is needed on its path; "
            "pick another key or remove that file"
        )
    if isinstance(exc, PermissionError):
        fix = (
            "fix the folder's permissions or 'root'" if where.provider == "local" else "check the credentials"
        )
        return StorageError(f"{name}: permission denied to {action} {target}; {fix}")
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return StorageError(f"{name}: no space left to {action} {target}; free space under {where.root}")
    detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return StorageError(f"{name}: cannot {action} {target}: {type(exc).__name__}: {detail}")


def root_error(exc: BaseException, where: Where) -> StorageError:
    """The error for a local root that cannot be created or used."""
    name = f"storage {where.storage!r}"
    if isinstance(exc, NotADirectoryError | FileExistsError):
        return StorageError(
            f"{name}: cannot create the root {where.root}: a file stands on that path, not a folder; "
            "fix 'root'"
        )
    if isinstance(exc, PermissionError):
        return StorageError(
            f"{name}: permission denied on the root {where.root}; fix its permissions or 'root'"
        )
    return translate(exc, where, "use", None)


def _s3_message(exc: BaseException, where: Where, name: str, action: str, target: str) -> str | None:
    chain = _chain(exc)
    code = next((c for c in (_error_code(e) for e in chain) if c), None)
    kinds = {type(e).__name__ for e in chain}
    if code == "NoSuchBucket":
        bucket = where.bucket
        return (
            f"{name}: bucket {bucket!r} does not exist at {where.server}; "
            f"create bucket {bucket!r} or fix 'bucket'"
        )
    if code in _CREDENTIAL_CODES:
        return (
            f"{name}: {where.server} refused the credentials ({code}); check access_key_id/secret_access_key"
        )
    if code in _DENIED_CODES:
        return (
            f"{name}: {where.server} denied access to bucket {where.bucket!r} ({code}); "
            "check access_key_id/secret_access_key and the key's permissions on the bucket"
        )
    if "NoCredentialsError" in kinds or "PartialCredentialsError" in kinds:
        return (
            f"{name}: no S3 credentials found; set access_key_id/secret_access_key (or the AWS_* environment)"
        )
    if kinds & set(_UNREACHABLE) or any(_refused(e) for e in chain):
        server = where.server
        return f"{name}: cannot reach {server}: is the S3 server at {server} running? check endpoint_url"
    if code and not isinstance(exc, FileNotFoundError):
        return f"{name}: S3 error {code} to {action} {target}: {_server_message(chain) or exc}"
    return None


def is_missing_bucket(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is S3's NoSuchBucket: not a missing key, a missing bucket."""
    return any(_error_code(e) == "NoSuchBucket" for e in _chain(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _error_code(exc: BaseException) -> str | None:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        code = error.get("Code")
        return str(code) if code else None
    return None


def _server_message(chain: list[BaseException]) -> str | None:
    for exc in chain:
        response: Any = getattr(exc, "response", None)
        if isinstance(response, dict) and (response.get("Error") or {}).get("Message"):
            return str(response["Error"]["Message"])
    return None


def _refused(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionError | TimeoutError) or (
        isinstance(exc, OSError) and exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH)
    )
