"""``synapse job``: list, inspect, follow and stop runs and background jobs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from synapse_sdk.cli._json import dumps

if TYPE_CHECKING:
    from synapse_sdk.backend.protocol import RunsResource
    from synapse_sdk.backend.schemas import Attempt

app = typer.Typer(help="List, inspect, follow and stop runs and background jobs.", no_args_is_help=True)


def _store() -> RunsResource:
    from synapse_sdk.backend import get_backend

    return get_backend().runs


@app.command("list")
def list_(
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=1_000_000, help="How many runs, newest first."),
    status: str = typer.Option(None, "--status", help="Only runs in this status."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the newest runs and jobs."""
    from synapse_sdk.backend.schemas import RunStatus, iso
    from synapse_sdk.errors import UsageError, did_you_mean
    from synapse_sdk.execution.base import reconcile

    wanted = None
    if status:
        try:
            wanted = RunStatus(status.upper())
        except ValueError:
            names = [s.value for s in RunStatus]
            raise UsageError(
                f"--status {status!r}: expected one of {', '.join(names)}"
                f"{did_you_mean(status.upper(), names)}"
            ) from None
    store = _store()
    records = [reconcile(store, r) for r in store.list_runs(limit=limit, status=wanted)]
    if as_json:
        print(dumps([r.to_json() for r in records], indent=2))
        return
    if not records:
        print("no runs yet; start one with 'synapse plugin run ACTION'")
        return
    print(f"{'ID':<18} {'STATUS':<10} {'PLUGIN':<24} {'ACTION':<14} {'PROGRESS':<9} CREATED")
    for r in records:
        pct = [p["percent"] for p in r.progress.values()]
        shown = f"{min(pct):.0f}%" if pct else "-"
        created = (iso(r.created_at) or "")[:19].replace("T", " ")
        print(f"{r.id:<18} {r.status.value:<10} {r.plugin or '-':<24} {r.action:<14} {shown:<9} {created}")
    for r in records:
        if r.damaged:
            print(f"damaged: run {r.id}: {', '.join(r.damaged)} could not be read (shown as defaults)")


@app.command()
def get(
    job_id: str = typer.Argument(..., help="The run or job id."),
    as_json: bool = typer.Option(False, "--json", help="Print the record as JSON."),
) -> None:
    """Show one run: status, progress, metrics, its folder, result or error."""
    from synapse_sdk.execution.base import reconcile

    store = _store()
    stored = reconcile(store, store.get_run(job_id))
    record = {
        **stored.to_json(),
        "folder": stored.extra.get("folder"),
        "exit_code": stored.extra.get("exit_code"),
    }
    if as_json:
        print(dumps(record, indent=2))
        return
    for key in (
        "id",
        "status",
        "plugin",
        "action",
        "method",
        "created_at",
        "started_at",
        "finished_at",
    ):
        print(f"{key:<12} {record[key]}")
    if record["folder"]:
        print(f"{'folder':<12} {record['folder']}")
    for attempt in stored.attempts:
        print(f"{f'attempt {attempt.number}':<12} {describe_attempt(attempt)}")
    print(f"{'params':<12} {dumps(record['params'])}")
    for cat, p in record["progress"].items():
        print(f"{'progress':<12} {cat}: {p['current']:g}/{p['total']:g} ({p['percent']:.1f}%)")
    for cat, values in record["metrics"].items():
        print(f"{'metrics':<12} {cat}: {dumps(values)}")
    if stored.damaged:
        print(f"{'damaged':<12} {', '.join(stored.damaged)} could not be read (shown as defaults)")
    if record["lost_events"]:
        print(f"{'lost':<12} {record['lost_events']} event(s) could not be stored")
    if record["error"]:
        print(f"{'error':<12} {record['error']}")
    if record["exit_code"] is not None:
        why = (
            "bad input: the action never started" if record["exit_code"] == 2 else "the action never started"
        )
        print(f"{'exit_code':<12} {record['exit_code']} ({why})")
    if record["result"] is not None:
        print(f"{'result':<12} {dumps(record['result'])}")


@app.command()
def logs(
    job_id: str = typer.Argument(..., help="The run or job id."),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Keep printing (log lines and progress) until the run ends."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Print a run's log entries; with --follow, keep going (with progress lines) until it ends."""
    from synapse_sdk.backend.schemas import LogEntry, iso
    from synapse_sdk.cli._render import format_log

    store = _store()
    if follow:
        from synapse_sdk.cli.watch import PlainProgress
        from synapse_sdk.execution.watch import run_events

        plain = PlainProgress()
        for event in run_events(store, job_id):
            if event.event == "log":
                e = LogEntry.model_validate(event.data)
                print(
                    dumps(e.to_json())
                    if as_json
                    else f"{iso(e.ts)} {format_log(e.level, e.message, e.event, e.data)}"
                )
            elif event.event == "progress" and not as_json:
                line = plain.line(event.data)
                if line is not None:
                    print(f"{iso(event.data['updated_at'])} {line}")
            elif event.event == "end" and not as_json:
                error = event.data.get("error")
                print(f"-- run {job_id} ended {event.data.get('status')}" + (f": {error}" if error else ""))
            sys.stdout.flush()
        return
    store.get_run(job_id)
    for e in store.get_logs(job_id):
        print(
            dumps(e.to_json())
            if as_json
            else f"{iso(e.ts)} {format_log(e.level, e.message, e.event, e.data)}"
        )


@app.command()
def watch(job_id: str = typer.Argument(..., help="The run or job id.")) -> None:
    """Watch a run until it ends: progress bars with rate and ETA, latest metrics, log tail.

    Exits like the run: 0 if it succeeded, 1 if it failed or was stopped, 2 if it refused its input.
    """
    from synapse_sdk.cli.watch import watch_run

    watch_run(_store(), job_id)


@app.command()
def metrics(
    job_id: str = typer.Argument(..., help="The run or job id."),
    name: str = typer.Option(None, "--name", help="Only this metric (e.g. loss)."),
    category: str = typer.Option(None, "--category", help="Only this metrics category (e.g. training)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print the history of a run's metrics, oldest first (every set_metrics call)."""
    from synapse_sdk.cli.watch import print_metrics

    print_metrics(_store(), job_id, name, category, as_json, sys.stdout)


@app.command()
def stop(
    job_id: str = typer.Argument(..., help="The job id."),
    grace: float = typer.Option(10.0, "--grace", min=0, max=86400, help="Seconds to wait before killing it."),
) -> None:
    """Stop a job: ask it to stop (SIGTERM), then kill it after --grace seconds."""
    from synapse_sdk.execution.base import stop_run

    record = stop_run(_store(), job_id, grace=grace)
    print(f"job {job_id}: {record.status.value}" + (f" ({record.error})" if record.error else ""))


@app.command()
def prune(
    older_than: float = typer.Option(
        7.0, "--older-than", min=0, max=36500, help="Only runs that ended more than this many days ago."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be freed, delete nothing."),
) -> None:
    """Free the folders of runs that ended: their working folders and job output (records stay)."""
    from synapse_sdk.execution.prune import prune_run_folders
    from synapse_sdk.settings import Settings

    freed = prune_run_folders(_store(), Settings.from_env(), older_than_days=older_than, dry_run=dry_run)
    size = sum(f.size for f in freed)
    verb = "would free" if dry_run else "freed"
    for f in freed:
        print(f"{f.run_id:<18} {f.size / 1e6:>9.1f} MB  {f.path}")
    print(f"{verb} {len(freed)} folder(s), {size / 1e6:.1f} MB")


def describe_attempt(attempt: Attempt) -> str:
    """One try of a run in a line: outcome, start and end, how its worker ended, where, why."""
    from synapse_sdk.backend.schemas import iso
    from synapse_sdk.execution.local.process import describe_exit

    start = (iso(attempt.started_at) or "")[:19].replace("T", " ")
    end = (iso(attempt.finished_at) or "")[11:19] or "..."
    parts = [f"{attempt.outcome or 'running':<10}", f"{start} -> {end}"]
    if attempt.exit_code is not None:
        parts.append(describe_exit(attempt.exit_code))
    if attempt.pid is not None:
        parts.append(f"pid {attempt.pid}" + (f" on {attempt.host}" if attempt.host else ""))
    if attempt.error and attempt.outcome != "succeeded":
        parts.append(attempt.error)
    return "  ".join(parts)
