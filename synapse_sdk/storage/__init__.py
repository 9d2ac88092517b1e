"""Storages: where files live (a local folder, an S3-compatible bucket), behind one ``Storage`` interface.

``get_storage(config, name)`` is the one factory; keys are relative POSIX paths confined to
the storage's root; secrets never leave ``public_config`` in clear.
"""

from __future__ import annotations

import collections.abc
import pathlib
import typing

from synapse_sdk.storage.base import Storage, StoredFile
from synapse_sdk.storage.config import (
    SECRET_FIELDS,
    LocalConfig,
    S3Config,
    StorageConfig,
    parse_config,
    public_config,
)

__all__ = [
    "DEFAULT_STORAGE_NAME",
    "SECRET_FIELDS",
    "LocalConfig",
    "S3Config",
    "Storage",
    "StorageConfig",
    "StoredFile",
    "default_local_config",
    "get_storage",
    "parse_config",
    "public_config",
]

#: The name of the local storage every fresh ``SYNAPSE_HOME`` has.
DEFAULT_STORAGE_NAME: typing.Final = "default"


def default_local_config(home: str | pathlib.Path) -> LocalConfig:
    """The default storage's configuration: a folder at ``SYNAPSE_HOME/storages/default``."""
    return LocalConfig(
        root=str(pathlib.Path(home).expanduser().absolute() / "storages" / DEFAULT_STORAGE_NAME)
    )


def get_storage(
    config: LocalConfig | S3Config | collections.abc.Mapping[str, typing.Any],
    name: str = DEFAULT_STORAGE_NAME,
) -> Storage:
    """Open the storage a configuration describes (a model, or a mapping validated by ``parse_config``).

    Nothing is contacted yet: the first operation (or ``check()``) reaches the provider.
    """
    from synapse_sdk.storage.fsspec_storage import FsspecStorage

    if isinstance(config, collections.abc.Mapping):
        config = parse_config(config, source=f"storage {name!r}")
    return FsspecStorage(config, name=name)
