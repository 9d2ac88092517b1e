"""Concurrent writers lose nothing: four processes, two embedded and two over HTTP, on one database.

The two embedded writers open ``SYNAPSE_HOME``'s database themselves; the server the other two
talk to serves that same home. Each process creates 500 tasks for its own data units, 25 per
request, at the same moment as the others; every task must be stored once, under the id its
writer was given back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.clients.backend import BackendClient
from tests.servers import BackendServer

WRITERS = ("embedded", "embedded", "http", "http")
PER_WRITER = 500
BATCH = 25

WRITER = textwrap.dedent("""
    import json, os, sys, time
    from synapse_sdk.clients.backend import BackendClient

    mode, target, token, project, first, count, batch, go = sys.argv[1:]
    if mode == "embedded":
        from synapse_sdk.backend.store import EmbeddedBackend
        client = BackendClient(backend=EmbeddedBackend(target))
    else:
        client = BackendClient(target, access_token=token)
    units = list(range(int(first), int(first) + int(count)))

    def tasks_for(chunk):
        return [{"project": int(project), "data_unit": unit, "tags": [mode],
                 "data": {"images": [{"bounding_box": [{"id": "b1", "classification": "car",
                                                        "data": [unit % 100, 1, 2, 3]}]}]}}
                for unit in chunk]

    client.get_project(int(project))  # warm up (connection, validators) so the writers start together
    client.backend.resource("tasks").spec.validate_many(tasks_for(units[:1]))
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.002)
    made = []
    for start in range(0, len(units), int(batch)):
        created = client.create_tasks(tasks_for(units[start:start + int(batch)]))
        made += [[task["id"], task["data_unit"]] for task in created]
        time.sleep(0.005)  # the work a writer does between writes: the others get the lock
    print(json.dumps(made), flush=True)
""")


def test_four_processes_embedded_and_over_http_create_2000_tasks_and_lose_none(tmp_path):
    home = tmp_path / "home"
    server = BackendServer(home).start()
    try:
        with EmbeddedBackend(home / "synapse.db") as backend:
            client = BackendClient(backend=backend)
            collection = client.create_data_collection({"name": "shared"})
            units = client.create_data_units(
                [{"data_collection": collection["id"], "files": {}, "meta": {"n": n}} for n in range(2000)]
            )
            project = client.create_project({"title": "shared", "data_collection": collection["id"]})
        first = units[0]["id"]
        assert [u["id"] for u in units] == list(range(first, first + 2000))

        go = tmp_path / "go"
        procs = []
        for n, mode in enumerate(WRITERS):
            target = str(home / "synapse.db") if mode == "embedded" else server.url
            args = [mode, target, server.token, project["id"], first + n * PER_WRITER, PER_WRITER, BATCH, go]
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", WRITER, *map(str, args)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        for proc in procs:  # every writer is up before any starts
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        go.touch()
        returned: list[list[list[int]]] = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            returned.append(json.loads(out))
    finally:
        server.stop()

    with EmbeddedBackend(home / "synapse.db") as backend:
        stored = list(backend.resource("tasks").iterate({"project": project["id"]}))
    assert len(stored) == 2000
    by_id = {task["id"]: task for task in stored}
    assert len(by_id) == 2000  # ids unique
    assert sorted(task["data_unit"] for task in stored) == [u["id"] for u in units]  # one task per data unit
    given = [pair for made in returned for pair in made]
    assert len(given) == 2000 and {task_id for task_id, _ in given} == set(by_id)
    for n, (mode, made) in enumerate(zip(WRITERS, returned, strict=True)):
        assert [unit for _, unit in made] == list(range(first + n * PER_WRITER, first + (n + 1) * PER_WRITER))
        for task_id, unit in made:  # the id each writer was given names its own task
            assert (by_id[task_id]["data_unit"], by_id[task_id]["tags"]) == (unit, [mode])
    spans = [(made[0][0], made[-1][0]) for made in returned]
    assert any(  # an embedded and an HTTP writer wrote at the same time (their id ranges interleave)
        start < end_other and start_other < end
        for start, end in spans[:2]
        for start_other, end_other in spans[2:]
    ), spans
