"""The data platform must write and stream 100,000 validated tasks close to bare SQLite's speed.

Every task has a small DM v2 annotation (one bounding box) and its own data unit. Measured, the
median of ``ROUNDS`` rounds each, against databases set up alike (the platform's schema, 100,000
data units, a project):

* create: ``client.create_tasks(100k)`` (validated, annotations included) on the embedded
  platform vs a bare ``sqlite3`` ``executemany`` of the same rows into the same table
  (``json.dumps`` of each row's JSON included); target <= 3x. The same call over HTTP to a
  real ``synapse backend serve`` vs embedded; target <= 3x.
* stream: ``client.list_tasks({"project": p}, list_all=True)`` read to the end, embedded vs a
  bare ``SELECT`` of the same rows plus ``json.loads`` of their JSON columns; target <= 2x.
  Over HTTP vs embedded; target <= 3x.
* memory: the peak RSS growth of a fresh process streaming 10,000 tasks vs 100,000 (embedded
  and over HTTP); target: within 50 MB of each other.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.clients.backend import BackendClient

TASKS = 100_000
SMALL = 10_000
ROUNDS = 3
TARGETS = {"create": (3.0, 3.0), "stream": (2.0, 3.0)}  # (embedded vs bare, http vs embedded)
MEMORY_SLACK_MB = 50
TOKEN = "bench-token-0123456789"
COLUMNS = ("project", "data_unit", "status", "data", "tags", "created_at", "updated_at")

STREAM = textwrap.dedent("""
    import json, sys
    from synapse_sdk.clients.backend import BackendClient

    def peak_mb():  # VmHWM: this process's peak RSS (ru_maxrss would carry the parent's across exec)
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024

    mode, target, token, project, hold = sys.argv[1:]
    if mode == "embedded":
        from synapse_sdk.backend.store import EmbeddedBackend
        client = BackendClient(backend=EmbeddedBackend(target))
    else:
        client = BackendClient(target, access_token=token)
    rows, count = client.list_tasks({"project": int(project)}, list_all=True)
    rows = iter(rows)
    next(rows)  # the first page is in: what a listing needs at all is loaded
    before = peak_mb()
    kept = list(rows) if hold == "hold" else None  # the control: what holding them all would cost
    seen = 1 + (len(kept) if kept is not None else sum(1 for _ in rows))
    after = peak_mb()
    print(json.dumps({"count": count, "seen": seen, "growth_mb": after - before, "peak_mb": after}))
""")


def annotation(n: int) -> dict[str, Any]:
    """A small DM v2 annotation: one box, its position varying with ``n``."""
    return {
        "images": [
            {
                "bounding_box": [
                    {
                        "id": "b1",
                        "classification": "car",
                        "attrs": [],
                        "data": [float(n % 640), float(n % 480), 40.0, 22.5],
                    }
                ]
            }
        ]
    }


def start_server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "SYNAPSE_HOME": str(home), "SYNAPSE_ACCESS_TOKEN": TOKEN}
    env.pop("SYNAPSE_HOST", None)
    home.mkdir(parents=True)
    synapse = str(Path(sys.executable).with_name("synapse"))
    with open(home.parent / "server.log", "ab") as log:
        proc = subprocess.Popen(
            [synapse, "backend", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("backend server did not start")


class Platform:
    """One platform (embedded or HTTP) with a collection of 100,000 data units."""

    def __init__(self, name: str, client: BackendClient, target: str) -> None:
        self.name, self.client, self.target = name, client, target
        collection = client.create_data_collection({"name": "bench"})
        self.collection = collection["id"]
        made = client.create_data_units(
            [{"data_collection": self.collection, "files": {}, "meta": {"n": n}} for n in range(TASKS)]
        )
        self.units = [unit["id"] for unit in made]
        self.projects = 0

    def project(self) -> int:
        self.projects += 1
        found = self.client.create_project(
            {"title": f"bench-{self.projects}", "data_collection": self.collection}
        )
        return int(found["id"])

    def items(self, project: int, count: int = TASKS) -> list[dict[str, Any]]:
        return [
            {"project": project, "data_unit": unit, "data": annotation(n)}
            for n, unit in enumerate(self.units[:count])
        ]

    def create(self) -> tuple[float, int]:
        project = self.project()
        items = self.items(project)
        started = time.perf_counter()
        created = self.client.create_tasks(items)
        elapsed = time.perf_counter() - started
        assert len(created) == TASKS
        assert created[-1]["data"] == items[-1]["data"]
        return elapsed, project

    def stream(self, project: int) -> float:
        started = time.perf_counter()
        rows, count = self.client.list_tasks({"project": project}, list_all=True)
        seen = sum(1 for _ in rows)
        elapsed = time.perf_counter() - started
        assert seen == count == TASKS, (seen, count)
        return elapsed

    def memory(self, project: int, hold: bool = False) -> tuple[float, float]:
        """Peak RSS growth and peak RSS (MB) of a fresh process streaming a project's tasks."""
        args = [self.name, self.target, TOKEN, str(project), "hold" if hold else "stream"]
        out = subprocess.run(
            [sys.executable, "-c", STREAM, *args], capture_output=True, text=True, check=True
        )
        found = json.loads(out.stdout)
        assert found["seen"] == found["count"], found
        return float(found["growth_mb"]), float(found["peak_mb"])


def bare_create(db: Path, project: int, items: list[dict[str, Any]]) -> float:
    """The same rows into the same table with ``sqlite3`` alone (the store's pragmas)."""
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
        conn.execute(f"PRAGMA {pragma}")
    sql = f"INSERT INTO tasks ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    started = time.perf_counter()
    now = time.time()
    rows = [
        (project, item["data_unit"], "pending", json.dumps(item["data"]), json.dumps([]), now, now)
        for item in items
    ]
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(sql, rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def bare_stream(db: Path, project: int) -> float:
    """Every row of a project by id with ``sqlite3`` alone, its JSON columns decoded."""
    conn = sqlite3.connect(db)
    started = time.perf_counter()
    seen = 0
    sql = f"SELECT id, {', '.join(COLUMNS)} FROM tasks WHERE project = ? ORDER BY id"
    for row in conn.execute(sql, (project,)):
        json.loads(row[4])
        json.loads(row[5])
        seen += 1
    elapsed = time.perf_counter() - started
    conn.close()
    assert seen == TASKS, seen
    return elapsed


def verdict(label: str, value: float, base: float, target: float, what: str) -> bool:
    ratio = value / base
    ok = ratio <= target
    print(
        f"{label:<34} {value:7.3f}s vs {what} {base:7.3f}s = {ratio:5.2f}x (target <= {target:g}x) "
        f"-> {'OK' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-platform-"))
    proc, url = start_server(tmp / "server-home")
    remote = BackendClient(url, access_token=TOKEN)
    try:
        bare_db = tmp / "bare" / "synapse.db"
        with EmbeddedBackend(bare_db) as backend:
            bare = Platform("bare", BackendClient(backend=backend), str(bare_db))
            bare_projects = [bare.project() for _ in range(ROUNDS)]
        embedded_db = tmp / "embedded" / "synapse.db"
        embedded = Platform("embedded", BackendClient(backend=EmbeddedBackend(embedded_db)), str(embedded_db))
        http = Platform("http", remote, url)
        print(f"{TASKS:,} tasks with a bounding box each; the median of {ROUNDS} rounds")

        times: dict[str, list[float]] = {"bare": [], "embedded": [], "http": []}
        projects: dict[str, int] = {}
        for round_ in range(ROUNDS):
            times["bare"].append(
                bare_create(bare_db, bare_projects[round_], bare.items(bare_projects[round_]))
            )
            for platform in (embedded, http):
                elapsed, project = platform.create()
                times[platform.name].append(elapsed)
                projects.setdefault(platform.name, project)
        create = {name: statistics.median(found) for name, found in times.items()}

        streams: dict[str, list[float]] = {"bare": [], "embedded": [], "http": []}
        for _ in range(ROUNDS):
            streams["bare"].append(bare_stream(embedded_db, projects["embedded"]))
            streams["embedded"].append(embedded.stream(projects["embedded"]))
            streams["http"].append(http.stream(projects["http"]))
        stream = {name: statistics.median(found) for name, found in streams.items()}

        growth: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {}
        for platform in (embedded, http):
            small = platform.project()
            platform.client.create_tasks(platform.items(small, SMALL))
            growth[platform.name] = (platform.memory(small), platform.memory(projects[platform.name]))
        held = embedded.memory(projects["embedded"], hold=True)[0]
    finally:
        remote.backend.close()
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(15)

    embedded_create, http_create = TARGETS["create"]
    embedded_stream, http_stream = TARGETS["stream"]
    ok = verdict("create, embedded", create["embedded"], create["bare"], embedded_create, "bare sqlite3")
    ok &= verdict("create, http", create["http"], create["embedded"], http_create, "embedded")
    ok &= verdict(
        "stream (list_all), embedded", stream["embedded"], stream["bare"], embedded_stream, "bare sqlite3"
    )
    ok &= verdict("stream (list_all), http", stream["http"], stream["embedded"], http_stream, "embedded")
    for name, ((small_mb, small_peak), (large_mb, large_peak)) in growth.items():
        within = abs(large_mb - small_mb) <= MEMORY_SLACK_MB
        ok &= within
        print(
            f"{'peak RSS growth streaming, ' + name:<34} {SMALL:,}: {small_mb:+.1f} MB "
            f"(peak {small_peak:.0f} MB), {TASKS:,}: {large_mb:+.1f} MB (peak {large_peak:.0f} MB) "
            f"(target: within {MEMORY_SLACK_MB} MB) "
            f"-> {'OK' if within else 'MISSED'}"
        )
    print(f"{'(control) holding all, embedded':<34} {TASKS:,} in a list: {held:+.1f} MB")
    print(
        f"tasks/s: created {TASKS / create['embedded']:,.0f} embedded, "
        f"{TASKS / create['http']:,.0f} over HTTP; "
        f"streamed {TASKS / stream['embedded']:,.0f} embedded, {TASKS / stream['http']:,.0f} over HTTP"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
