"""A storage's configuration, one pydantic model per provider, and its masked public form.

A configuration is what the platform records for a storage (``provider`` + fields); it
holds credentials in clear, so anything shown to a user goes through ``public_config``.
A new provider (gcs, sftp, http) is one more model in ``StorageConfig`` with its own
``secret_fields``; callers that parse, show or open storages stay unchanged.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from synapse_sdk._redact import MASK
from synapse_sdk.errors import ConfigError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class _ProviderConfig(BaseModel):
    """What every provider's configuration shares: unknown keys are refused, never dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Fields holding credentials: masked by ``public_config``, hidden from ``repr``.
    secret_fields: ClassVar[frozenset[str]] = frozenset()


class LocalConfig(_ProviderConfig):
    """Files in a folder on this machine (the default provider)."""

    provider: Literal["local"] = "local"
    root: str = Field(description="absolute path of the folder that holds the files")

    @field_validator("root")
    @classmethod
    def _absolute_root(cls, root: str) -> str:
        if not root or "\0" in root:
            raise ValueError("must be an absolute folder path, like '/data/synapse'")
        expanded = posixpath.expanduser(root)
        if not posixpath.isabs(expanded):
            raise ValueError(f"must be an absolute folder path, like '/data/synapse', got {root!r}")
        return posixpath.normpath(expanded)


class S3Config(_ProviderConfig):
    """Objects in an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, Ceph, R2...), under ``prefix``."""

    provider: Literal["s3"] = "s3"
    bucket: str = Field(description="bucket name, like 'synapse-data'")
    prefix: str = Field("", description="folder inside the bucket, like 'team-a/datasets'")
    endpoint_url: str | None = Field(None, description="for non-AWS servers, like 'http://127.0.0.1:8333'")
    region: str | None = Field(None, description="like 'us-east-1'")
    access_key_id: str | None = Field(None, repr=False)
    secret_access_key: str | None = Field(None, repr=False)

    secret_fields: ClassVar[frozenset[str]] = frozenset({"access_key_id", "secret_access_key"})

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, bucket: str) -> str:
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise ValueError(
                f"must be 3-63 lowercase letters, digits, '.' or '-', like 'synapse-data', got {bucket!r}"
            )
        return bucket

    @field_validator("prefix")
    @classmethod
    def _clean_prefix(cls, prefix: str) -> str:
        if "\\" in prefix or "\0" in prefix:
            raise ValueError(f"must be a POSIX folder path, like 'team-a/datasets', got {prefix!r}")
        parts = [part for part in prefix.split("/") if part not in ("", ".")]
        if ".." in parts:
            raise ValueError(f"must not contain '..', got {prefix!r}")
        return "/".join(parts)

    @field_validator("endpoint_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"must be an http(s) URL, like 'http://127.0.0.1:8333', got {url!r}")
        return url.rstrip("/") if url else url

    @model_validator(mode="after")
    def _keys_in_pairs(self) -> S3Config:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError(
                "give both access_key_id and secret_access_key, or neither (to use the AWS environment)"
            )
        return self


#: Any storage configuration, told apart by its ``provider`` field.
StorageConfig = Annotated[LocalConfig | S3Config, Field(discriminator="provider")]

_PROVIDERS: Final[tuple[type[_ProviderConfig], ...]] = (LocalConfig, S3Config)

#: The credential fields of each provider, masked whenever a storage is shown.
SECRET_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    model.model_fields["provider"].default: model.secret_fields for model in _PROVIDERS
}

_ADAPTER: TypeAdapter[LocalConfig | S3Config] = TypeAdapter(StorageConfig)


def parse_config(data: Mapping[str, Any], source: str = "storage") -> LocalConfig | S3Config:
    """Validate a mapping into a provider's configuration; ``ConfigError`` lists every bad field.

    ``provider`` defaults to ``local``. Each problem is one line, like
    ``storage: bucket: must be 3-63 lowercase letters...``.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a mapping like {{'provider': 'local', 'root': '/data'}}")
    try:
        return _ADAPTER.validate_python({"provider": "local", **data})
    except ValidationError as exc:
        problems = [_problem(source, err) for err in exc.errors()]
        raise ConfigError("\n".join(problems), problems) from None


def _problem(source: str, err: Any) -> str:
    loc = [str(part) for part in err["loc"]]
    if loc and loc[0] in SECRET_FIELDS:
        loc = loc[1:]  # the union's tag, e.g. ('s3', 'bucket') -> 'bucket'
    where = ".".join(loc) or "(root)"
    if err["type"] == "union_tag_invalid":
        allowed = ", ".join(repr(p) for p in SECRET_FIELDS)
        return f"{source}: provider: expected one of {allowed}, got {err['input'].get('provider')!r}"
    if err["type"] == "extra_forbidden":
        return f"{source}: {where}: unknown field; remove it"
    if err["type"] == "missing":
        return f"{source}: {where}: required"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{source}: {where}: {message}"


def public_config(config: LocalConfig | S3Config) -> dict[str, Any]:
    """The configuration as shown when a storage is read back: secret fields set are ``'***'``."""
    data = config.model_dump(mode="json")
    for field in config.secret_fields:
        if data.get(field) not in (None, ""):
            data[field] = MASK
    return data
