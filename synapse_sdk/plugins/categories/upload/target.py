"""Where an upload goes and what it reads, checked against the platform before any file is touched.

The storage and the data collection must exist, every ``assets`` key must be a file specification
of the collection (with a did-you-mean), and a ``project`` must be over that collection. Each is
a ``ParamsError`` (exit 2) naming the param and the fix. Local paths are resolved as export's:
relative to the plugin folder, or the current folder when the action runs without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synapse_sdk.errors import ParamsError, ResourceNotFound, did_you_mean
from synapse_sdk.plugins.categories.upload.discovery import AssetPath, FileSpec

if TYPE_CHECKING:
    from synapse_sdk.clients.backend import BackendClient


@dataclass(frozen=True)
class UploadTarget:
    """The checked destination (storage, collection, project) and the local folders to read."""

    storage: dict[str, Any]
    collection: dict[str, Any]
    specs: list[FileSpec]
    project: dict[str, Any] | None
    #: Single-path mode: the folder with a sub-folder per specification; None in multi-path mode.
    root: Path | None
    is_recursive: bool
    #: Multi-path mode: the folder of each specification given; empty in single-path mode.
    assets: dict[str, AssetPath]
    metadata_path: Path | None

    @property
    def base_path(self) -> Path:
        """The folder the uploader is built with: ``root``, or the first asset's folder."""
        if self.root is not None:
            return self.root
        return next(iter(self.assets.values())).path


def resolve_target(client: BackendClient, params: dict[str, Any], plugin_path: Path | None) -> UploadTarget:
    """Check ``params`` against the platform and resolve its paths; ``ParamsError`` names what is wrong."""
    storage = _storage(client, params.get("storage"))
    collection = _get(
        client.get_data_collection,
        params["data_collection"],
        "data_collection",
        "a data collection id (`synapse data collections list` shows them)",
    )
    specs = FileSpec.from_collection(collection)
    if not specs:
        raise ParamsError(
            f"params.data_collection: collection {collection['id']} {collection['name']!r} has no file "
            "specifications; give it some, like [{'name': 'image', 'file_type': 'image'}]"
        )
    project = None
    if params.get("project") is not None:
        project = _get(
            client.get_project,
            params["project"],
            "project",
            "a project id (`synapse data projects list` shows them)",
        )
        if project.get("data_collection") != collection["id"]:
            raise ParamsError(
                f"params.project: project {project['id']} {project.get('title')!r} is over data collection "
                f"{project.get('data_collection')}, not {collection['id']}; give a project of this collection"
            )
    base = plugin_path or Path.cwd()
    assets: dict[str, AssetPath] = {}
    root = None
    if params.get("use_single_path", True):
        root = local_path(base, params["path"])
    else:
        names = [spec.name for spec in specs]
        for key, asset in (params.get("assets") or {}).items():
            if key not in names:
                raise ParamsError(
                    f"params.assets.{key}: not a file specification of collection {collection['id']}"
                    f"{did_you_mean(key, names)}; its specifications are {', '.join(names)}"
                )
            assets[key] = AssetPath(local_path(base, asset["path"]), bool(asset.get("is_recursive", True)))
    metadata = params.get("excel_metadata_path")
    return UploadTarget(
        storage=storage,
        collection=collection,
        specs=specs,
        project=project,
        root=root,
        is_recursive=bool(params.get("is_recursive", True)),
        assets=assets,
        metadata_path=local_path(base, metadata) if metadata else None,
    )


def local_path(base: Path, path: str) -> Path:
    """``path`` as given when absolute, else under ``base`` (the plugin folder or the current one)."""
    return (base / Path(path).expanduser()).resolve()


def _storage(client: BackendClient, storage_id: int | None) -> dict[str, Any]:
    if storage_id is None:
        try:
            return client.get_default_storage()
        except ResourceNotFound:
            raise ParamsError(
                "params.storage: the platform has no default storage; give a storage id"
            ) from None
    return _get(
        client.get_storage, storage_id, "storage", "a storage id (`synapse data storages list` shows them)"
    )


def _get(getter: Any, record_id: int, param: str, what: str) -> dict[str, Any]:
    try:
        record: dict[str, Any] = getter(record_id)
    except ResourceNotFound:
        raise ParamsError(
            f"params.{param}: there is no {param.replace('_', ' ')} {record_id}; give {what}"
        ) from None
    return record
