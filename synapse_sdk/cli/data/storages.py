"""``synapse data storages``: create and list storages (where files live)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from synapse_sdk.cli.data.lookup import platform_client
from synapse_sdk.cli.data.output import JSON_HELP, Column, created, show

app = typer.Typer(help="Create and list storages (where files live).", no_args_is_help=True)


def _location(storage: dict[str, Any]) -> str:
    config = storage.get("configuration") or {}
    if storage.get("provider") == "s3":
        where = f"s3://{config.get('bucket')}/{config.get('prefix') or ''}".rstrip("/")
        return where + (f" at {config['endpoint_url']}" if config.get("endpoint_url") else "")
    return str(config.get("root", ""))


@app.command("list")
def storages_list(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List storages (secret keys shown as ***); the default one gets files unless told otherwise."""
    columns: list[Column] = [
        ("ID", 5, lambda r: r["id"]),
        ("NAME", 20, lambda r: r["name"]),
        ("PROVIDER", 8, lambda r: r["provider"]),
        ("DEFAULT", 7, lambda r: "yes" if r.get("is_default") else ""),
        ("LOCATION", 0, _location),
    ]
    show(platform_client().list_storages(None, list_all=True), columns, what="storages", as_json=as_json)


@app.command("create")
def storages_create(
    name: str = typer.Option(..., "--name", help="A unique name, like 'team-s3'."),
    provider: str = typer.Option("local", "--provider", help="local or s3."),
    root: Path = typer.Option(None, "--root", help="local: the folder that holds the files."),
    bucket: str = typer.Option(None, "--bucket", help="s3: the bucket, like 'synapse-data'."),
    prefix: str = typer.Option(None, "--prefix", help="s3: a folder inside the bucket."),
    endpoint_url: str = typer.Option(None, "--endpoint-url", help="s3: a non-AWS server's URL."),
    region: str = typer.Option(None, "--region", help="s3: the region, like 'us-east-1'."),
    access_key_id: str = typer.Option(
        None, "--access-key-id", help="s3: the key id (or the AWS environment)."
    ),
    secret_access_key: str = typer.Option(
        None, "--secret-access-key", help="s3: the secret key (visible to other users of this machine's ps)."
    ),
    default: bool = typer.Option(False, "--default", help="Make it the default storage."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Create a storage: a local folder (--root) or an S3-compatible bucket (--bucket...)."""
    from synapse_sdk.errors import UsageError, did_you_mean

    s3 = {
        "bucket": bucket, "prefix": prefix, "endpoint_url": endpoint_url, "region": region,
        "access_key_id": access_key_id, "secret_access_key": secret_access_key,
    }  # fmt: skip
    if provider == "local":
        extra = [key for key, value in s3.items() if value is not None]
        if extra:
            raise UsageError(f"--{extra[0].replace('_', '-')}: only for --provider s3")
        if root is None:
            raise UsageError("--root: required for --provider local, like --root /data/synapse")
        configuration: dict[str, Any] = {"root": str(root.expanduser().absolute())}
    elif provider == "s3":
        if root is not None:
            raise UsageError("--root: only for --provider local")
        if bucket is None:
            raise UsageError("--bucket: required for --provider s3, like --bucket synapse-data")
        configuration = {key: value for key, value in s3.items() if value is not None}
    else:
        raise UsageError(
            f"--provider {provider!r}: expected local or s3{did_you_mean(provider, ['local', 's3'])}"
        )
    record = platform_client().create_storage(
        {"name": name, "provider": provider, "configuration": configuration, "is_default": default}
    )
    created("storage", record, f"{name!r} ({provider}: {_location(record)})", as_json)
