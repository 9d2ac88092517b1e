"""One contract for the data platform: every ``BackendClient`` method, embedded and over HTTP.

``embedded`` is ``BackendClient(backend=EmbeddedBackend(...))`` on a fresh SQLite file; ``http``
is ``BackendClient(url, access_token=...)`` against a real ``synapse backend serve`` (one per
module: names carry a per-test prefix). Both must give the same records, the same exception
classes and the same messages; the last test runs one scenario on both and compares everything.
"""

from __future__ import annotations

import hashlib
import re
import types
import uuid
from pathlib import Path

import pytest

from synapse_sdk.backend.store import EmbeddedBackend
from synapse_sdk.clients.backend import BackendClient
from synapse_sdk.errors import AnnotationError, ResourceConflict, ResourceNotFound, UsageError
from tests.servers import BackendServer

MISSING = 999_999_999  # an id no test creates


@pytest.fixture
def uid() -> str:
    """A prefix that keeps this test's names apart on the shared server."""
    return uuid.uuid4().hex[:8]


def box(x: float = 12.0, box_id: str = "b1", cls: str = "car") -> dict:
    """A small DM v2 annotation: one bounding box."""
    return {
        "images": [
            {
                "bounding_box": [
                    {"id": box_id, "classification": cls, "attrs": [], "data": [x, 30.5, 40.0, 22.0]}
                ]
            }
        ]
    }


def png(path: Path, size: tuple[int, int] = (4, 3), color: str = "red") -> Path:
    from PIL import Image

    Image.new("RGB", size, color).save(path)
    return path


def setup_project(client: BackendClient, uid: str, units: int = 3) -> types.SimpleNamespace:
    """A collection of bare data units (no file specifications) and a project over it."""
    collection = client.create_data_collection({"name": f"{uid}-units"})
    made = client.create_data_units(
        [{"data_collection": collection["id"], "files": {}, "meta": {"n": n}} for n in range(units)]
    )
    project = client.create_project({"title": f"{uid}-project", "data_collection": collection["id"]})
    return types.SimpleNamespace(collection=collection, units=made, project=project)


def exact(message: str) -> str:
    return f"^{re.escape(message)}$"


# -- storages -------------------------------------------------------------------------------------


def test_storages_mask_their_secrets_when_read_back_and_keep_them_when_sent_back(
    client, stored, uid, tmp_path
):
    default = client.get_default_storage()
    assert (default["name"], default["provider"], default["is_default"]) == ("default", "local", True)
    secret = {
        "bucket": "synapse-data",
        "endpoint_url": "http://127.0.0.1:9",
        "access_key_id": "AKIA-ID",
        "secret_access_key": "s3cr3t",
    }
    created = client.create_storage({"name": f"{uid}-s3", "provider": "s3", "configuration": secret})
    masked = {**secret, "access_key_id": "***", "secret_access_key": "***", "prefix": "", "region": None}
    assert created["configuration"] == masked
    assert client.get_storage(created["id"])["configuration"] == masked
    page = client.list_storages({"name": f"{uid}-s3"})
    assert [s["configuration"] for s in page["results"]] == [masked]
    rows, count = client.list_storages({"provider": "s3", "name": f"{uid}-s3"}, list_all=True)
    assert ([s["configuration"] for s in rows], count) == ([masked], 1)
    assert stored.resource("storages").get(created["id"])["configuration"]["secret_access_key"] == "s3cr3t"

    # What was read (secrets as ***) sent back with a change keeps the secrets stored.
    changed = client.backend.resource("storages").update(
        created["id"],
        {"configuration": {**client.get_storage(created["id"])["configuration"], "prefix": "team-a"}},
    )
    assert changed["configuration"]["prefix"] == "team-a"
    kept = stored.resource("storages").get(created["id"])["configuration"]
    assert (kept["access_key_id"], kept["secret_access_key"], kept["prefix"]) == (
        "AKIA-ID",
        "s3cr3t",
        "team-a",
    )

    with pytest.raises(UsageError, match=r"^storage\.configuration: bucket: must be 3-63 lowercase"):
        client.create_storage(
            {"name": f"{uid}-bad", "provider": "s3", "configuration": {"bucket": "Bad_Bucket"}}
        )
    with pytest.raises(
        UsageError, match=exact(f"storages/{created['id']}.configuration: root: unknown field; remove it")
    ):
        client.backend.resource("storages").update(
            created["id"], {"configuration": {"bucket": "ok-b", "root": "/x"}}
        )
    with pytest.raises(
        ResourceConflict, match=exact(f"storage: a storage with name='{uid}-s3' exists already")
    ):
        client.create_storage(
            {"name": f"{uid}-s3", "provider": "local", "configuration": {"root": str(tmp_path)}}
        )
    with pytest.raises(
        ResourceNotFound,
        match=exact(f"storage {MISSING} does not exist; list them with 'synapse data storages list'"),
    ):
        client.get_storage(MISSING)


def test_one_storage_is_the_default(client, uid, tmp_path):
    first = client.get_default_storage()  # on the shared server, the default again when this test ends
    other = client.create_storage(
        {
            "name": f"{uid}-other",
            "provider": "local",
            "configuration": {"root": str(tmp_path / "other")},
            "is_default": True,
        }
    )
    try:
        assert client.get_default_storage()["id"] == other["id"]
        assert client.get_storage(first["id"])["is_default"] is False
    finally:
        client.backend.resource("storages").update(first["id"], {"is_default": True})
    assert [s["id"] for s in client.list_storages({"is_default": True}, list_all=True)[0]] == [first["id"]]
    with pytest.raises(
        UsageError,
        match=exact("storages[1].is_default: only one storage can have is_default; storages[0] has it too"),
    ):
        client.backend.resource("storages").create_many(
            [
                {
                    "name": f"{uid}-a",
                    "provider": "local",
                    "configuration": {"root": "/a"},
                    "is_default": True,
                },
                {
                    "name": f"{uid}-b",
                    "provider": "local",
                    "configuration": {"root": "/b"},
                    "is_default": True,
                },
            ]
        )


# -- data collections, files and units ------------------------------------------------------------


def test_data_collections_have_one_primary_file_specification(client, uid):
    specs = [
        {"name": "image", "file_type": "image", "extensions": [".png", ".jpg"]},
        {"name": "label", "file_type": "json", "is_required": False},
    ]
    created = client.create_data_collection({"name": f"{uid}-images", "file_specifications": specs})
    assert created["file_specifications"][0] == {**specs[0], "is_primary": True}
    assert client.get_data_collection(created["id"]) == created
    assert client.list_data_collections({"name": f"{uid}-images"})["results"] == [created]
    with pytest.raises(
        UsageError,
        match=exact(
            "data collection.file_specifications: image, label are all primary; mark exactly one is_primary"
        ),
    ):
        client.create_data_collection(
            {
                "name": f"{uid}-x",
                "file_specifications": [
                    {"name": "image", "file_type": "image", "is_primary": True},
                    {"name": "label", "file_type": "json", "is_primary": True},
                ],
            }
        )
    with pytest.raises(
        UsageError, match=r"^data collection\.file_specifications\[0\]\.file_type: input should be"
    ):
        client.create_data_collection(
            {"name": f"{uid}-y", "file_specifications": [{"name": "a", "file_type": "img"}]}
        )
    with pytest.raises(
        ResourceConflict,
        match=exact(f"data collection: a data collection with name='{uid}-images' exists already"),
    ):
        client.create_data_collection({"name": f"{uid}-images"})
    with pytest.raises(ResourceNotFound, match=f"^data collection {MISSING} does not exist"):
        client.get_data_collection(MISSING)


def test_data_files_are_stored_by_content_and_read_back_byte_identical(client, tmp_path):
    image = png(tmp_path / "Cat.PNG", size=(5, 7))
    body = image.read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    first = client.create_data_file(image, source="camera-3")
    assert (first["checksum"], first["size"], first["mime_type"], first["name"]) == (
        digest,
        len(body),
        "image/png",
        "Cat.PNG",
    )
    assert first["path"] == f"data_files/{digest[:2]}/{digest}.png"
    assert first["meta"] == {"width": 5, "height": 7, "source": "camera-3"}
    again = client.create_data_file(image)
    assert again == first  # the same bytes: the same data file
    copy = tmp_path / "copy.png"
    copy.write_bytes(body)
    assert client.create_data_file(copy)["id"] == first["id"]
    with client.open_data_file(first["id"]) as stream:
        assert stream.read() == body
    assert client.get_data_file(first["id"]) == first
    raw = tmp_path / "notes.txt"
    raw.write_bytes(b"\x00\x01 not an image")
    other = client.create_data_file(raw)
    assert (other["id"] != first["id"], other["meta"], other["mime_type"]) == (True, {}, "text/plain")
    with pytest.raises(UsageError, match="no such file"):
        client.create_data_file(tmp_path / "missing.png")
    with pytest.raises(ResourceNotFound, match=f"^data file {MISSING} does not exist$"):
        client.open_data_file(MISSING)


def test_data_units_name_their_files_by_specification_and_carry_path_and_checksum(client, uid, tmp_path):
    specs = [
        {"name": "image", "file_type": "image", "is_required": True, "extensions": [".png"]},
        {"name": "meta", "file_type": "json"},
    ]
    collection = client.create_data_collection({"name": f"{uid}-c", "file_specifications": specs})
    red, blue = (client.create_data_file(png(tmp_path / f"{c}.png", color=c)) for c in ("red", "blue"))
    text = tmp_path / "t.txt"
    text.write_text("x")
    note = client.create_data_file(text)
    cid = collection["id"]
    units = client.create_data_units(
        [
            {"data_collection": cid, "files": {"image": {"data_file": red["id"]}}, "meta": {"row": 1}},
            {
                "data_collection": cid,
                "files": {"image": {"data_file": blue["id"], "checksum": blue["checksum"]}},
            },
        ]
    )
    assert units[0]["files"] == {
        "image": {"data_file": red["id"], "path": red["path"], "checksum": red["checksum"]}
    }
    assert (units[0]["meta"], units[1]["meta"]) == ({"row": 1}, {})
    assert client.get_data_unit(units[1]["id"]) == units[1]
    rows, count = client.list_data_units({"data_collection": cid}, list_all=True)
    assert (list(rows), count) == (units, 2)
    by_sum = client.list_data_units({"data_collection": cid, "checksum": [units[1]["checksum"], "0" * 64]})
    assert by_sum["results"] == [units[1]]

    def refused(error, message, files):
        with pytest.raises(error, match=exact(message)):
            client.create_data_units(
                [
                    {"data_collection": cid, "files": {"image": {"data_file": blue["id"]}}},
                    {"data_collection": cid, "files": files},
                ]
            )

    refused(
        ResourceConflict,
        f"data_units[0]: a data unit with data_collection={cid}, "
        f"checksum='{units[1]['checksum']}' exists already",
        {"image": {"data_file": red["id"]}},
    )
    blue_again = {"image": {"data_file": red["id"]}}
    with pytest.raises(
        UsageError,
        match=r"^data_units\[1\]\.files\.imgae: data collection '.*-c' has no file "
        r"specification 'imgae' \(did you mean 'image'\?\); its specifications: image, meta$",
    ):
        client.create_data_units(
            [
                {"data_collection": cid, "files": blue_again},
                {"data_collection": cid, "files": {"imgae": {"data_file": red["id"]}}},
            ]
        )
    with pytest.raises(
        UsageError, match=exact(f"data_units[0].files.image.data_file: data file {MISSING} does not exist")
    ):
        client.create_data_units([{"data_collection": cid, "files": {"image": {"data_file": MISSING}}}])
    with pytest.raises(
        UsageError, match=exact(f"data_units[0].files: 'image' is required by data collection '{uid}-c'")
    ):
        client.create_data_units([{"data_collection": cid, "files": {"meta": {"data_file": note["id"]}}}])
    with pytest.raises(
        UsageError,
        match=exact(
            f"data_units[0].files.image: data file {note['id']} is a .txt file; "
            "file specification 'image' takes .png"
        ),
    ):
        client.create_data_units([{"data_collection": cid, "files": {"image": {"data_file": note["id"]}}}])
    with pytest.raises(
        UsageError,
        match=exact(
            f"data_units[0].files.image.checksum: data file {red['id']} has sha256 "
            f"{red['checksum']}, not {'a' * 64}; leave it out to take the data "
            "file's"
        ),
    ):
        client.create_data_units(
            [{"data_collection": cid, "files": {"image": {"data_file": red["id"], "checksum": "a" * 64}}}]
        )
    moved = {"image": {"data_file": red["id"], "path": "x.png"}}
    with pytest.raises(
        UsageError,
        match=exact(
            f"data_units[0].files.image.path: data file {red['id']} is at {red['path']!r}, not 'x.png'; "
            "leave it out to take the data file's"
        ),
    ):
        client.create_data_units([{"data_collection": cid, "files": moved}])
    with pytest.raises(
        UsageError, match=exact(f"data_units[0].data_collection: data collection {MISSING} does not exist")
    ):
        client.create_data_units([{"data_collection": MISSING, "files": {}}])
    assert client.list_data_units({"data_collection": cid})["count"] == 2  # nothing of a refused batch stored

    files = client.backend.resource("data_files")
    with pytest.raises(
        ResourceConflict,
        match=exact(
            f"data_files/{red['id']}: data unit {units[0]['id']} holds it as its 'image' file; "
            "remove it first"
        ),
    ):
        files.delete(red["id"])
    files.delete(note["id"])  # a file no unit holds
    with pytest.raises(ResourceNotFound, match=f"^data file {note['id']} does not exist$"):
        client.get_data_file(note["id"])


# -- projects, tasks, assignments -----------------------------------------------------------------


def test_projects(client, uid):
    collection = client.create_data_collection({"name": f"{uid}-c"})
    labels = {"bounding_box": [{"name": "car", "attributes": []}]}
    project = client.create_project(
        {"title": f"{uid}-p", "data_collection": collection["id"], "configuration": labels}
    )
    assert (project["title"], project["description"], project["configuration"]) == (f"{uid}-p", "", labels)
    assert client.get_project(project["id"]) == project
    assert client.list_projects({"title": f"{uid}-p"})["results"] == [project]
    assert list(client.list_projects({"data_collection": collection["id"]}, list_all=True)[0]) == [project]
    with pytest.raises(
        ResourceConflict, match=exact(f"project: a project with title='{uid}-p' exists already")
    ):
        client.create_project({"title": f"{uid}-p"})
    with pytest.raises(
        UsageError, match=exact(f"project.data_collection: data collection {MISSING} does not exist")
    ):
        client.create_project({"title": f"{uid}-q", "data_collection": MISSING})
    with pytest.raises(UsageError, match=exact("project.title: required field is missing")):
        client.create_project({"description": "no title"})
    with pytest.raises(UsageError, match=exact("project.labels: unknown field")):
        client.create_project({"title": f"{uid}-r", "labels": {}})
    with pytest.raises(
        ResourceNotFound,
        match=exact(f"project {MISSING} does not exist; list them with 'synapse data projects list'"),
    ):
        client.get_project(MISSING)


def test_tasks_stream_across_pages_and_filter(client, uid):
    setup = setup_project(client, uid, units=2500)
    pid = setup.project["id"]
    tasks = client.create_tasks(
        [
            {
                "project": pid,
                "data_unit": unit["id"],
                "data": box(float(n % 97)),
                "status": "completed" if n % 5 else "pending",
            }
            for n, unit in enumerate(setup.units)
        ]
    )
    ids = [t["id"] for t in tasks]
    assert ids == list(range(ids[0], ids[0] + 2500))  # one batch, consecutive ids in the caller's order
    assert tasks[7] == {
        "id": ids[7],
        "project": pid,
        "data_unit": setup.units[7]["id"],
        "status": "completed",
        "data": box(7.0),
        "tags": [],
        "predictions": [],
        "created_at": tasks[7]["created_at"],
        "updated_at": tasks[7]["created_at"],
    }

    rows, count = client.list_tasks({"project": pid}, list_all=True)
    assert isinstance(rows, types.GeneratorType) and count == 2500
    streamed = list(rows)
    assert streamed == tasks  # every task, in id order, across three pages of 1,000

    page = client.list_tasks({"project": pid, "page_size": 1000, "page": 3})
    assert (page["count"], page["next"], page["previous"], page["results"]) == (2500, None, 2, tasks[2000:])
    first = client.list_tasks({"project": pid})
    assert (first["count"], first["next"], first["previous"], len(first["results"])) == (2500, 2, None, 100)

    pending, count = client.list_tasks({"project": pid, "status": "pending"}, list_all=True)
    assert [t["id"] for t in pending] == ids[::5] and count == 500
    some = client.list_tasks({"project": pid, "data_unit": [setup.units[3]["id"], setup.units[4]["id"]]})
    assert [t["id"] for t in some["results"]] == ids[3:5]
    assert client.list_tasks({"project": pid, "data_unit": None})["count"] == 0
    assert client.list_tasks({"project": pid, "status": ["pending", "reviewed"]})["count"] == 500

    with pytest.raises(
        UsageError,
        match=exact(
            "params.projet: tasks cannot be filtered by 'projet' (did you mean "
            "'project'?); filters: project, status, data_unit, assignment"
        ),
    ):
        client.list_tasks({"projet": pid})
    with pytest.raises(
        UsageError,
        match=r"^params\.status: input should be 'pending', 'in_progress', 'completed', "
        r"'reviewed' or 'rejected', got 'done'$",
    ):
        client.list_tasks({"project": pid, "status": "done"}, list_all=True)
    with pytest.raises(UsageError, match=r"^params\.project: input should be a valid integer"):
        client.list_tasks({"project": "seven"})
    with pytest.raises(
        UsageError, match=exact("params.page_size: expected a whole number from 1 to 1000, got 5000")
    ):
        client.list_tasks({"project": pid, "page_size": 5000})


def test_tasks_refuse_what_a_user_would_not_expect(client, uid):
    setup = setup_project(client, uid, units=3)
    pid, unit = setup.project["id"], setup.units[0]["id"]
    task = client.create_tasks([{"project": pid, "data_unit": unit}])[0]
    assert (task["status"], task["data"], task["tags"]) == ("pending", None, [])
    with pytest.raises(
        ResourceConflict, match=exact(f"tasks[1]: a task with project={pid}, data_unit={unit} exists already")
    ):
        client.create_tasks(
            [{"project": pid, "data_unit": setup.units[1]["id"]}, {"project": pid, "data_unit": unit}]
        )
    with pytest.raises(
        ResourceConflict,
        match=exact(f"tasks[2]: a task with project={pid}, data_unit={setup.units[2]['id']} exists already"),
    ):
        client.create_tasks(
            [
                {"project": pid, "data_unit": setup.units[2]["id"]},
                {"project": pid},
                {"project": pid, "data_unit": setup.units[2]["id"]},
            ]
        )
    with pytest.raises(UsageError, match=exact(f"tasks[1].project: project {MISSING} does not exist")):
        client.create_tasks([{"project": pid}, {"project": MISSING}])
    with pytest.raises(UsageError, match=exact(f"tasks[0].data_unit: data unit {MISSING} does not exist")):
        client.create_tasks([{"project": pid, "data_unit": MISSING}])
    other = setup_project(client, f"{uid}-o", units=1)
    with pytest.raises(
        UsageError,
        match=exact(
            f"tasks[0].data_unit: data unit {other.units[0]['id']} is of data collection "
            f"{other.collection['id']}; project {pid} annotates data collection {setup.collection['id']}"
        ),
    ):
        client.create_tasks([{"project": pid, "data_unit": other.units[0]["id"]}])
    with pytest.raises(UsageError, match=r"^tasks\[0\]\.status: input should be 'pending', .* got 'done'$"):
        client.create_tasks([{"project": pid, "status": "done"}])
    with pytest.raises(UsageError, match=exact("tasks: expected a list of task objects")):
        client.backend.resource("tasks").create_many("not a list")  # type: ignore[arg-type]
    assert client.list_tasks({"project": pid})["count"] == 1  # nothing of a refused batch was stored

    # Only status, data and tags change; the task keeps its project and data unit.
    changed = client.update_task(task["id"], {"status": "in_progress", "tags": ["hard"]})
    assert (changed["status"], changed["tags"], changed["project"]) == ("in_progress", ["hard"], pid)
    assert changed["updated_at"] >= task["updated_at"]
    with pytest.raises(
        UsageError,
        match=exact(
            f"tasks/{task['id']}.project: cannot be changed; changeable: status, data, tags, predictions"
        ),
    ):
        client.update_task(task["id"], {"project": other.project["id"]})
    with pytest.raises(
        UsageError,
        match=exact(
            f"tasks/{task['id']}.stat: cannot be changed (did you mean "
            "'status'?); changeable: status, data, tags, predictions"
        ),
    ):
        client.update_task(task["id"], {"stat": "completed"})
    with pytest.raises(UsageError, match=r"^tasks/\d+\.status: input should be 'pending'"):
        client.update_task(task["id"], {"status": "finished"})
    with pytest.raises(
        ResourceNotFound,
        match=exact(f"task {MISSING} does not exist; list them with 'synapse data tasks list'"),
    ):
        client.get_task(MISSING)
    with pytest.raises(
        ResourceNotFound,
        match=exact(f"task {MISSING} does not exist; list them with 'synapse data tasks list'"),
    ):
        client.update_task(MISSING, {"status": "completed"})
    assert client.get_task(task["id"]) == changed


def test_an_error_names_the_item_by_its_place_in_the_whole_list(client, uid):
    """Over HTTP a long list goes in batches, each stored all or none: the message is the same."""
    from synapse_sdk.backend.http.resources import BATCH

    setup = setup_project(client, uid, units=0)
    pid = setup.project["id"]
    items = [{"project": pid, "data": box()} for _ in range(BATCH)] + [{"project": MISSING}]
    with pytest.raises(UsageError, match=exact(f"tasks[{BATCH}].project: project {MISSING} does not exist")):
        client.create_tasks(items)
    stored = client.list_tasks({"project": pid})["count"]
    assert stored == (
        0 if isinstance(client.backend, EmbeddedBackend) else BATCH
    )  # HTTP: the batches before it


def test_annotate_task_data_validates_dm_v2(client, uid):
    setup = setup_project(client, uid, units=1)
    task = client.create_tasks([{"project": setup.project["id"], "data_unit": setup.units[0]["id"]}])[0]
    annotation = {"classification": {"bounding_box": ["car"]}, **box()}
    annotation["images"][0]["keypoint"] = [
        {"id": "k1", "classification": "wheel", "attrs": [], "data": [3, 4]}
    ]
    annotated = client.annotate_task_data(task["id"], annotation)
    assert annotated["data"] == annotation and client.get_task(task["id"])["data"] == annotation
    with pytest.raises(
        AnnotationError,
        match=exact(
            f"tasks/{task['id']}.data: images[0].bounding_box[0].data: "
            "expected [x, y, width, height] of 4 finite numbers, got [1, 2]"
        ),
    ):
        client.annotate_task_data(
            task["id"],
            {
                "images": [
                    {"bounding_box": [{"id": "b1", "classification": "car", "attrs": [], "data": [1, 2]}]}
                ]
            },
        )
    with pytest.raises(
        AnnotationError,
        match=r"^tasks\[1\]\.data: images\[0\]\.bounding_box\[0\]\.classification: "
        r"'bus' is not listed under classification\.bounding_box \('car'\)",
    ):
        client.create_tasks(
            [
                {"project": setup.project["id"], "data": annotation},
                {"project": setup.project["id"], "data": {**annotation, **box(cls="bus")}},
            ]
        )
    with pytest.raises(AnnotationError, match=r"^task\.data: images\[0\]\.polygon: "):
        client.backend.resource("tasks").create(
            {"project": setup.project["id"], "data": {"images": [{"polygon": 3}]}}
        )
    assert client.get_task(task["id"])["data"] == annotation  # the refused annotations changed nothing


def test_assignments_carry_their_review_state(client, uid):
    setup = setup_project(client, uid, units=2)
    pid = setup.project["id"]
    tasks = client.create_tasks([{"project": pid, "data_unit": u["id"]} for u in setup.units])
    made = client.create_assignments([{"project": pid, "task": t["id"], "annotator": "ann"} for t in tasks])
    assert [(a["status"], a["annotator"], a["data"]) for a in made] == [("pending", "ann", None)] * 2
    done = client.update_assignment(
        made[0]["id"], {"status": "submitted", "data": box(), "submitted_at": 1000.0}
    )
    assert (done["status"], done["data"], done["submitted_at"]) == ("submitted", box(), 1000.0)
    approved = client.update_assignment(made[0]["id"], {"status": "approved"})
    assert client.get_assignment(made[0]["id"]) == approved
    rows, count = client.list_assignments({"project": pid, "status": "approved"}, list_all=True)
    assert ([a["id"] for a in rows], count) == ([made[0]["id"]], 1)
    assert client.list_assignments({"task": tasks[1]["id"]})["results"] == [made[1]]
    assert client.list_tasks({"assignment": made[1]["id"]})["results"] == [tasks[1]]
    with pytest.raises(
        UsageError,
        match=r"^assignments/\d+\.status: input should be 'pending', 'submitted', "
        r"'approved' or 'rejected', got 'reviewed'$",
    ):
        client.update_assignment(made[0]["id"], {"status": "reviewed"})
    other = setup_project(client, f"{uid}-o", units=1)
    with pytest.raises(
        UsageError,
        match=exact(
            f"assignments[0].project: task {tasks[0]['id']} is in project {pid}, not {other.project['id']}"
        ),
    ):
        client.create_assignments([{"project": other.project["id"], "task": tasks[0]["id"]}])
    with pytest.raises(UsageError, match=exact(f"assignments[0].task: task {MISSING} does not exist")):
        client.create_assignments([{"project": pid, "task": MISSING}])
    with pytest.raises(
        AnnotationError, match=r"^assignments/\d+\.data: images\[0\]\.bounding_box\[0\]\.id: "
    ):
        client.update_assignment(made[1]["id"], {"data": box(box_id="b 1")})
    with pytest.raises(
        ResourceConflict,
        match=exact(
            f"tasks/{tasks[0]['id']}: 1 assignments refer to it (task = {tasks[0]['id']}); remove them first"
        ),
    ):
        client.backend.resource("tasks").delete(tasks[0]["id"])


# -- ground truth ---------------------------------------------------------------------------------


def test_a_frozen_ground_truth_version_refuses_every_change(client, uid):
    setup = setup_project(client, uid, units=3)
    dataset = client.create_ground_truth_dataset({"name": f"{uid}-gt", "project": setup.project["id"]})
    assert client.get_ground_truth_dataset(dataset["id"]) == dataset
    assert client.list_ground_truth_datasets({"name": f"{uid}-gt"})["results"] == [dataset]
    version = client.create_ground_truth_version(dataset["id"], "1")
    assert (version["version"], version["is_frozen"]) == ("1", False)
    units = [u["id"] for u in setup.units]
    events = client.add_ground_truth_events(
        version["id"],
        [
            {"data_unit": units[0], "data": box(), "split": "train"},
            {"data_unit": units[1], "data": box(2.0), "split": "val"},
        ],
    )
    vid = version["id"]
    assert [(e["ground_truth_dataset_version"], e["split"]) for e in events] == [(vid, "train"), (vid, "val")]
    rows, count = client.list_ground_truth_events(
        {"ground_truth_dataset_version": vid, "split": "val"}, list_all=True
    )
    assert (list(rows), count) == ([events[1]], 1)
    changed = client.backend.resource("ground_truth_events").update(events[1]["id"], {"split": "test"})
    assert changed["split"] == "test"

    frozen = client.freeze_ground_truth_version(vid)
    assert frozen["is_frozen"] is True and client.get_ground_truth_version(vid) == frozen
    assert client.freeze_ground_truth_version(vid) == frozen  # freezing again changes nothing
    assert client.list_ground_truth_versions({"dataset": dataset["id"], "is_frozen": True})["results"] == [
        frozen
    ]
    fix = "create a new version to change its items"
    with pytest.raises(
        ResourceConflict,
        match=exact(
            f"ground_truth_events[0].ground_truth_dataset_version: "
            f"ground-truth dataset version {vid} is frozen; {fix}"
        ),
    ):
        client.add_ground_truth_events(vid, [{"data_unit": units[2]}])
    events_store = client.backend.resource("ground_truth_events")
    with pytest.raises(
        ResourceConflict,
        match=exact(
            f"ground_truth_events/{events[0]['id']}: its ground-truth dataset version is frozen; {fix}"
        ),
    ):
        events_store.update(events[0]["id"], {"split": "test"})
    with pytest.raises(
        ResourceConflict,
        match=exact(
            f"ground_truth_events/{events[0]['id']}: its ground-truth dataset version is frozen; {fix}"
        ),
    ):
        events_store.delete(events[0]["id"])
    with pytest.raises(
        ResourceConflict,
        match=exact(
            f"ground_truth_dataset_versions/{vid}: the version is frozen: "
            f"it cannot change or be unfrozen; {fix}"
        ),
    ):
        client.backend.resource("ground_truth_dataset_versions").update(vid, {"is_frozen": False})
    assert [
        e["split"]
        for e in client.list_ground_truth_events({"ground_truth_dataset_version": vid}, list_all=True)[0]
    ] == ["train", "test"]

    second = client.create_ground_truth_version(dataset["id"], "2")
    assert client.add_ground_truth_events(second["id"], [{"data_unit": units[2]}])[0]["split"] == "train"
    with pytest.raises(
        ResourceConflict,
        match=exact(
            f"ground-truth dataset version: a ground-truth dataset version "
            f"with dataset={dataset['id']}, version='1' exists already"
        ),
    ):
        client.create_ground_truth_version(dataset["id"], "1")
    with pytest.raises(
        ResourceConflict,
        match=exact(
            f"ground_truth_events[0]: a ground-truth event with "
            f"ground_truth_dataset_version={second['id']}, "
            f"data_unit={units[2]} exists already"
        ),
    ):
        client.add_ground_truth_events(second["id"], [{"data_unit": units[2]}])
    with pytest.raises(
        UsageError,
        match=exact(
            f"ground_truth_events[0].ground_truth_dataset_version: ground-truth "
            f"dataset version {MISSING} does not exist"
        ),
    ):
        client.add_ground_truth_events(MISSING, [{"data_unit": units[2]}])
    with pytest.raises(
        UsageError, match=r"^ground_truth_events\[0\]\.split: input should be 'train', 'val' or 'test'"
    ):
        client.add_ground_truth_events(second["id"], [{"data_unit": units[0], "split": "holdout"}])
    with pytest.raises(
        ResourceNotFound, match=exact(f"ground-truth dataset version {MISSING} does not exist")
    ):
        client.get_ground_truth_version(MISSING)


# -- models ---------------------------------------------------------------------------------------


def test_models_are_registered_with_their_file(client, uid, tmp_path):
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"weights " * 1000)
    model = client.create_model(
        {
            "name": f"{uid}-cnn",
            "plugin": "digits@1.0.0",
            "configuration": {"epochs": 3},
            "metrics": {"accuracy": 0.98},
        },
        file=weights,
    )
    data_file = client.get_data_file(model["file"])
    assert model["checksum"] == data_file["checksum"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    with client.open_data_file(model["file"]) as stream:
        assert stream.read() == weights.read_bytes()
    assert client.get_model(model["id"]) == model
    assert (model["run"], model["configuration"], model["metrics"]) == (
        None,
        {"epochs": 3},
        {"accuracy": 0.98},
    )
    rows, count = client.list_models({"name": f"{uid}-cnn"}, list_all=True)
    assert (list(rows), count) == ([model], 1)
    assert client.list_models({"name": f"{uid}-cnn", "plugin": "digits@1.0.0"})["results"] == [model]
    bare = client.create_model({"name": f"{uid}-cnn"})
    assert (bare["file"], bare["checksum"]) == (None, None)
    with pytest.raises(UsageError, match=exact(f"model.file: data file {MISSING} does not exist")):
        client.create_model({"name": f"{uid}-x", "file": MISSING})
    with pytest.raises(UsageError, match=exact("model.run: run 'no-such-run' does not exist")):
        client.create_model({"name": f"{uid}-x", "run": "no-such-run"})
    with pytest.raises(UsageError, match=r"^model\.metrics\.loss: input was not a valid JSON value"):
        client.create_model({"name": f"{uid}-x", "metrics": {"loss": {1, 2}}})
    with pytest.raises(ResourceNotFound, match=exact(f"model {MISSING} does not exist")):
        client.get_model(MISSING)


# -- both at once ---------------------------------------------------------------------------------


def scenario(client: BackendClient, folder: Path) -> list[object]:
    """Every kind of call, and the outcome of each (a record, or the error's class and message)."""
    outcomes: list[object] = []

    def run(call, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            found = call(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the outcome being compared is the error itself
            outcomes.append((type(exc).__name__, str(exc)))
            return None
        if isinstance(found, tuple):
            found = (list(found[0]), found[1])
        outcomes.append(found)
        return found

    folder.mkdir(exist_ok=True)
    image = png(folder / "a.png")
    collection = run(
        client.create_data_collection,
        {"name": "images", "file_specifications": [{"name": "image", "file_type": "image"}]},
    )
    data_file = run(client.create_data_file, image)
    units = run(
        client.create_data_units,
        [{"data_collection": collection["id"], "files": {"image": {"data_file": data_file["id"]}}}],
    )
    run(client.create_data_units, [{"data_collection": collection["id"], "files": {"img": {"data_file": 1}}}])
    project = run(client.create_project, {"title": "p", "data_collection": collection["id"]})
    tasks = run(
        client.create_tasks,
        [
            {"project": project["id"], "data_unit": units[0]["id"], "data": box()},
            {"project": project["id"], "tags": ["x"]},
        ],
    )
    run(
        client.create_tasks,
        [{"project": project["id"], "data": {"images": [{"bounding_box": [{"id": "b"}]}]}}],
    )
    run(client.annotate_task_data, tasks[1]["id"], box(3.0))
    run(
        client.annotate_task_data,
        tasks[1]["id"],
        {"images": [{"keypoint": [{"id": "k", "classification": "c", "data": [1]}]}]},
    )
    run(client.list_tasks, {"project": project["id"]})
    run(client.list_tasks, {"project": project["id"]}, list_all=True)
    run(client.list_tasks, {"projects": project["id"]})
    assignments = run(client.create_assignments, [{"project": project["id"], "task": tasks[0]["id"]}])
    run(client.update_assignment, assignments[0]["id"], {"status": "submitted"})
    run(client.list_assignments, {"project": project["id"], "status": "submitted"}, list_all=True)
    dataset = run(client.create_ground_truth_dataset, {"name": "gt", "project": project["id"]})
    version = run(client.create_ground_truth_version, dataset["id"], "v1")
    run(client.add_ground_truth_events, version["id"], [{"data_unit": units[0]["id"], "data": box()}])
    run(client.freeze_ground_truth_version, version["id"])
    run(client.add_ground_truth_events, version["id"], [{"data_unit": None}])
    run(client.list_ground_truth_events, {"ground_truth_dataset_version": version["id"]}, list_all=True)
    run(client.list_ground_truth_versions, {"dataset": dataset["id"]})
    run(client.create_model, {"name": "m", "metrics": {"f1": 0.5}}, file=image)
    run(client.list_models, {"name": "m"})
    run(
        client.create_storage,
        {
            "name": "s3",
            "provider": "s3",
            "configuration": {"bucket": "b-1", "access_key_id": "k", "secret_access_key": "s"},
        },
    )
    run(client.list_storages)
    run(client.get_task, MISSING)
    run(client.get_project, project["id"])
    return outcomes


def test_both_backends_give_identical_records_and_errors(tmp_path):
    """The same calls on a fresh embedded platform and a fresh server: the same answers, field by field."""
    server = BackendServer(tmp_path / "server-home").start()
    try:
        with EmbeddedBackend(tmp_path / "home" / "synapse.db") as embedded:
            local = scenario(BackendClient(backend=embedded), tmp_path / "files")
        remote_client = BackendClient(server.url, access_token=server.token)
        remote = scenario(remote_client, tmp_path / "files")
        remote_client.backend.close()
    finally:
        server.stop()

    def same(value: object) -> object:  # times and the two homes' paths aside
        if isinstance(value, dict):
            return {k: same(v) for k, v in value.items() if k not in ("created_at", "updated_at")}
        if isinstance(value, list | tuple):
            return type(value)(same(v) for v in value)
        if isinstance(value, str):
            return value.replace(str(tmp_path / "server-home"), "HOME").replace(
                str(tmp_path / "home"), "HOME"
            )
        return value

    assert len(local) == len(remote) == 28
    for number, (mine, theirs) in enumerate(zip(same(local), same(remote), strict=True)):
        assert mine == theirs, f"call {number}"
    errors = [o for o in local if isinstance(o, tuple) and isinstance(o[0], str)]
    assert [name for name, _ in errors] == [
        "UsageError",
        "AnnotationError",
        "AnnotationError",
        "UsageError",
        "ResourceConflict",
        "ResourceNotFound",
    ]


def test_a_task_keeps_model_predictions_beside_its_own_annotation(client, uid):
    setup = setup_project(client, uid, units=1)
    (task,) = client.create_tasks([{"project": setup.project["id"], "data_unit": setup.units[0]["id"]}])
    prediction = {"source": "opencv:haarcascade_frontalface_default", "data": box(3.0),
                  "scores": {"b1": 0.9}, "score": 0.9, "run": "r1"}  # fmt: skip

    updated = client.update_task(task["id"], {"predictions": [prediction]})

    assert updated["predictions"] == [prediction] and updated["data"] is None
    assert client.get_task(task["id"])["predictions"] == [prediction]
    wrong = {**prediction, "scores": {"nope": 0.5}}
    with pytest.raises(UsageError, match=r"predictions\[0\]\.scores: 'nope' is no annotation id of its data"):
        client.update_task(task["id"], {"predictions": [wrong]})
    with pytest.raises(AnnotationError, match=r"predictions\[0\]\.data: images\[0\]\.bounding_box\[0\]\.id"):
        client.update_task(
            task["id"], {"predictions": [{**prediction, "data": {"images": [{"bounding_box": [{}]}]}}]}
        )
