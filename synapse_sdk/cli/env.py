"""``synapse env list | prune``: the cached runtime environments of releases."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import typer

app = typer.Typer(help="Show and free the cached runtime environments of releases.", no_args_is_help=True)


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@app.command("list")
def list_envs() -> None:
    """List cached environments, most recently used first."""
    from synapse_sdk.runtime_env.venv import list_envs as cached
    from synapse_sdk.settings import Settings

    envs = cached(Settings.from_env().home)
    if not envs:
        print("no cached environments", file=sys.stderr)
        return
    print(f"{'KEY':<24} {'MANAGER':<7} {'PYTHON':<8} {'SIZE':>9} {'LAST USED':<19} REQUIREMENTS")
    for env in envs:
        used = datetime.datetime.fromtimestamp(env.last_used).strftime("%Y-%m-%d %H:%M:%S")
        reqs = ", ".join(env.requirements[:4]) + (" …" if len(env.requirements) > 4 else "")
        size = f"{_dir_size(env.path) / (1 << 20):.1f}M"
        print(f"{env.key:<24} {env.package_manager:<7} {env.python:<8} {size:>9} {used:<19} {reqs}")


@app.command()
def prune(
    older_than: float = typer.Option(
        None, "--older-than", min=0, max=36500, help="Only envs unused for this many days."
    ),
    all_: bool = typer.Option(False, "--all", help="Every cached env, however recently used."),
) -> None:
    """Remove cached envs (--all, or unused for --older-than days) and leftovers of interrupted builds."""
    from synapse_sdk.errors import UsageError

    if all_ == (older_than is not None):
        raise UsageError(
            "say which envs to remove: --all, or --older-than DAYS like --older-than 30"
            if not all_
            else "--all and --older-than: pass one (--all removes every env, however recent)"
        )
    from synapse_sdk.packaging.publish import prune_release_leftovers
    from synapse_sdk.runtime_env.venv import prune_envs
    from synapse_sdk.settings import Settings

    home = Settings.from_env().home
    seconds = None if older_than is None else older_than * 86400
    removed = prune_envs(home, seconds) + prune_release_leftovers(home)
    for path in removed:
        print(f"removed {path}")
    print(f"{len(removed)} environment folder(s) removed", file=sys.stderr)
