"""``synapse plugin publish | list | releases``: package plugins and see what is published."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import typer

from synapse_sdk.cli._json import dumps
from synapse_sdk.cli.plugin import app


def _when(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.1f} MiB"


@app.command()
def publish(
    path: Path = typer.Option(None, "--path", help="The plugin folder (default: current)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the files and checksum; write nothing."),
) -> None:
    """Validate, archive (honouring .gitignore/.synapseignore) and publish the plugin as CODE@VERSION."""
    from synapse_sdk.packaging.publish import plan_release

    if dry_run:
        plan = plan_release(path)
        for name in plan.files:
            print(f"{_size((plan.path / name).stat().st_size):>10}  {name}")
        if plan.extra_requirements:
            print(f"get_runtime_env() adds: {', '.join(plan.extra_requirements)}", file=sys.stderr)
        lock = " + requirements.lock resolved at publish" if plan.needs_lock else ""
        print(
            f"{plan.config.uri}: {len(plan.files)} file(s){lock}, content sha256 {plan.source_checksum} "
            "(dry run: nothing written)",
            file=sys.stderr,
        )
        return
    from synapse_sdk.backend import get_backend
    from synapse_sdk.packaging.publish import publish as publish_release
    from synapse_sdk.settings import Settings

    result = publish_release(path, get_backend(Settings.from_env()).releases)
    rec = result.record
    summary = {"code": rec.code, "version": rec.version, "checksum": rec.checksum, "size": rec.size,
               "created": result.created}  # fmt: skip
    print(dumps(summary))
    if result.created:
        print(f"published {rec.uri} ({_size(rec.size)}, sha256 {rec.checksum})", file=sys.stderr)
    else:
        print(f"{rec.uri} is already published with the same content; nothing to do", file=sys.stderr)


@app.command("list")
def list_plugins() -> None:
    """List published plugins with their newest version."""
    from synapse_sdk.backend import get_backend
    from synapse_sdk.backend.schemas import ReleaseRecord
    from synapse_sdk.settings import Settings

    newest: dict[str, list[ReleaseRecord]] = {}
    for rec in get_backend(Settings.from_env()).releases.list_releases():
        newest.setdefault(rec.code, []).append(rec)
    if not newest:
        print("no published plugins; publish one with 'synapse plugin publish'", file=sys.stderr)
        return
    print(f"{'CODE':<24} {'LATEST':<12} {'RELEASES':>8}  {'CATEGORY':<16} NAME")
    for code, recs in newest.items():
        print(f"{code:<24} {recs[0].version:<12} {len(recs):>8}  {recs[0].category:<16} {recs[0].name}")


@app.command()
def releases(code: str = typer.Argument(..., help="The plugin code.")) -> None:
    """List the published releases of plugin CODE, newest first."""
    from synapse_sdk.backend import get_backend
    from synapse_sdk.settings import Settings

    registry = get_backend(Settings.from_env()).releases
    records = registry.list_releases(code)
    if not records:
        registry.get_release(code)  # raises PluginNotFound with a hint
    print(f"{'VERSION':<12} {'PUBLISHED':<20} {'SIZE':>10}  SHA256")
    for rec in records:
        print(f"{rec.version:<12} {_when(rec.created_at):<20} {_size(rec.size):>10}  {rec.checksum}")
