"""The platform's HTTP API itself, against a real ``synapse backend serve``: paths, pagination
envelope and cursor mode, both token headers, 4xx bodies naming the field, the export
listings under ``sdk/``, file bytes, and an OpenAPI schema that documents every route.

What the API shares with the embedded platform is in ``tests/backend/test_platform_contract.py``.
"""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from synapse_sdk.backend.resources import RESOURCES
from synapse_sdk.clients.backend import BackendClient, get_backend_client
from synapse_sdk.errors import UsageError
from tests.servers import BackendServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = BackendServer(tmp_path_factory.mktemp("platform-http") / "home").start()
    yield server
    server.stop()


@pytest.fixture
def api(server):
    """Raw HTTP with the reference platform's token header."""
    with httpx.Client(
        base_url=server.url, headers={"Synapse-Access-Token": f"Token {server.token}"}
    ) as client:
        yield client


@pytest.fixture(scope="module")
def project(server):
    """A project with 250 tasks (every third completed), 3 assignments and a version of 2 events."""
    uid = uuid.uuid4().hex[:8]
    client = BackendClient(server.url, access_token=server.token)
    collection = client.create_data_collection({"name": f"{uid}-c"})
    units = client.create_data_units([{"data_collection": collection["id"], "files": {}} for _ in range(250)])
    record = client.create_project({"title": f"{uid}-p", "data_collection": collection["id"]})
    tasks = client.create_tasks(
        [
            {
                "project": record["id"],
                "data_unit": u["id"],
                "status": "completed" if n % 3 == 0 else "pending",
            }
            for n, u in enumerate(units)
        ]
    )
    client.create_assignments(
        [{"project": record["id"], "task": t["id"], "annotator": "a"} for t in tasks[:3]]
    )
    dataset = client.create_ground_truth_dataset({"name": f"{uid}-gt", "project": record["id"]})
    version = client.create_ground_truth_version(dataset["id"], "1")
    client.add_ground_truth_events(
        version["id"], [{"data_unit": units[0]["id"]}, {"data_unit": units[1]["id"], "split": "val"}]
    )
    client.backend.close()
    return {"id": record["id"], "tasks": [t["id"] for t in tasks], "version": version["id"]}


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_pages_come_in_the_reference_envelope_with_next_and_previous_links(api, project):
    first = api.get("/tasks/", params={"project": project["id"], "page_size": 100})
    assert first.status_code == 200
    body = first.json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert (body["count"], body["previous"], len(body["results"])) == (250, None, 100)
    assert urlsplit(body["next"]).path == "/tasks/"
    assert query(body["next"]) == {"project": [str(project["id"])], "page_size": ["100"], "page": ["2"]}
    second = api.get(body["next"]).json()
    assert query(second["previous"])["page"] == ["1"] and query(second["next"])["page"] == ["3"]
    third = api.get(second["next"]).json()
    assert (third["next"], len(third["results"])) == (None, 50)
    seen = [t["id"] for page in (body, second, third) for t in page["results"]]
    assert seen == project["tasks"]
    assert (
        api.get("/tasks/", params={"project": project["id"]}).json()["next"].endswith("page=2")
    )  # 100 a page


def test_cursor_mode_has_no_count_and_walks_every_record_once(api, project):
    url: str | None = f"/tasks/?project={project['id']}&pagination=cursor&page_size=120"
    seen, pages = [], 0
    while url:
        body = api.get(url).json()
        assert "count" not in body and body["previous"] is None
        seen += [t["id"] for t in body["results"]]
        url, pages = body["next"], pages + 1
    assert (seen, pages) == (project["tasks"], 3)
    after = api.get(
        "/tasks/", params={"project": project["id"], "pagination": "cursor", "cursor": project["tasks"][-2]}
    ).json()
    assert [t["id"] for t in after["results"]] == project["tasks"][-1:]


def test_filters_are_query_parameters(api, project):
    done = api.get(
        "/tasks/", params={"project": project["id"], "status": "completed", "page_size": 1000}
    ).json()
    assert [t["id"] for t in done["results"]] == project["tasks"][::3]
    repeated = api.get(
        "/tasks/", params=[("project", project["id"]), ("status", "completed"), ("status", "pending")]
    )
    assert repeated.json()["count"] == 250
    assert api.get("/tasks/", params={"project": project["id"], "data_unit": "null"}).json()["count"] == 0
    storages = api.get("/storages/", params={"is_default": "true"}).json()["results"]
    assert [s["name"] for s in storages] == ["default"]


def test_numbers_read_back_as_written(api, project):
    """A listing's JSON comes from SQLite: floats keep every digit and stay floats."""
    task = project["tasks"][-1]
    made = api.post(
        "/assignments/",
        json={
            "project": project["id"],
            "task": task,
            "started_at": 0.1,
            "submitted_at": 1000.0,
            "annotator": 'quote " and é',
        },
    )
    assert made.status_code == 201, made.text
    listed = api.get("/assignments/", params={"task": task}).json()["results"]
    assert listed == [made.json()]
    assert (repr(listed[0]["started_at"]), repr(listed[0]["submitted_at"])) == ("0.1", "1000.0")
    assert listed[0]["created_at"] == made.json()["created_at"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda token: {"Synapse-Access-Token": f"Token {token}"}, id="synapse-access-token"),
        pytest.param(lambda token: {"Authorization": f"Bearer {token}"}, id="authorization-bearer"),
    ],
)
def test_both_token_headers_are_accepted(server, headers):
    answer = httpx.get(f"{server.url}/projects/", headers=headers(server.token))
    assert answer.status_code == 200 and "results" in answer.json()


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="none"),
        pytest.param({"Synapse-Access-Token": "Token wrong-token"}, id="wrong-token"),
        pytest.param({"Authorization": "Token test-token-0123456789"}, id="wrong-scheme"),
    ],
)
def test_without_the_token_every_platform_route_is_401(server, headers):
    for method, path in (
        ("GET", "/tasks/"),
        ("POST", "/tasks/"),
        ("GET", "/sdk/tasks/"),
        ("GET", "/storages/1/"),
        ("GET", "/data_files/1/download/"),
        ("POST", "/data_files/upload/?name=x"),
    ):
        answer = httpx.request(method, f"{server.url}{path}", headers=headers)
        assert answer.status_code == 401, (method, path)
        assert "Synapse-Access-Token: Token <token>" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field", "problem"),
    [
        (
            "POST",
            "/tasks/",
            [{"project": 1}, {"project": "x"}],
            400,
            "tasks[1].project",
            "input should be a valid integer, unable to parse string as an integer, got 'x'",
        ),
        ("POST", "/tasks/", {"project": 1, "projet": 1}, 400, "task.projet", "unknown field"),
        (
            "POST",
            "/tasks/",
            [{"project": 999_999_999}],
            400,
            "tasks[0].project",
            "project 999999999 does not exist",
        ),
        ("POST", "/tasks/", b"{not json", 400, "body", None),
        ("POST", "/tasks/", b"", 400, "body", "required; send a JSON object (or a list of them)"),
        ("POST", "/tasks/", "text", 400, "body", "expected a task object or a list of them"),
        ("GET", "/tasks/?projet=1", None, 400, "query.projet", None),
        ("GET", "/tasks/?status=done", None, 400, "query.status", None),
        (
            "GET",
            "/tasks/?page_size=0",
            None,
            400,
            "query.page_size",
            "expected a whole number from 1 to 1000, got '0'",
        ),
        (
            "GET",
            "/tasks/?pagination=offset",
            None,
            400,
            "query.pagination",
            "expected 'page' (the default) or 'cursor', got 'offset'",
        ),
        (
            "GET",
            "/tasks/abc/",
            None,
            400,
            "path.id",
            "expected a record id (a whole number from 1), got 'abc'",
        ),
        (
            "PATCH",
            "/tasks/1/",
            {"project": 2},
            400,
            "tasks/1.project",
            "cannot be changed; changeable: status, data, tags, predictions",
        ),
        ("GET", "/tasks/999999999/", None, 404, None, None),
        (
            "POST",
            "/storages/",
            {"name": "default", "provider": "local", "configuration": {"root": "/tmp/x"}},
            409,
            "storage",
            "a storage with name='default' exists already",
        ),
    ],
    ids=[
        "list-item-type",
        "unknown-field",
        "missing-reference",
        "bad-json",
        "no-body",
        "not-an-object",
        "unknown-filter",
        "bad-filter-value",
        "page-size",
        "pagination",
        "bad-id",
        "not-changeable",
        "missing-id",
        "duplicate",
    ],
)
def test_4xx_bodies_name_the_field_and_the_fix(api, method, path, body, status, field, problem):
    content = body if isinstance(body, bytes) else None
    answer = api.request(method, path, json=None if content is not None else body, content=content)
    assert answer.status_code == status, answer.text
    found = answer.json()
    assert found["error"] == {400: "UsageError", 404: "ResourceNotFound", 409: "ResourceConflict"}[status]
    assert isinstance(found["detail"], str) and found["detail"]
    if field is not None:
        assert list(found["errors"]) == [field]
        assert found["detail"] == f"{field}: {found['errors'][field][0]}"
        if problem is not None:
            assert found["errors"][field] == [problem]


def test_the_export_listings_under_sdk_are_the_listings(api, project):
    for resource, params in (
        ("tasks", {"project": project["id"], "status": "completed"}),
        ("assignments", {"project": project["id"]}),
        ("ground_truth_events", {"ground_truth_dataset_version": project["version"], "split": "val"}),
    ):
        sdk = api.get(f"/sdk/{resource}/", params=params)
        plain = api.get(f"/{resource}/", params=params)
        assert sdk.status_code == plain.status_code == 200
        assert sdk.json()["results"] == plain.json()["results"] and sdk.json()["count"] > 0
        assert urlsplit(sdk.json()["next"] or "/sdk/").path.startswith("/sdk/")
    assert api.get("/sdk/tasks/", params={"project": project["id"]}).json()["next"].startswith("/sdk/tasks/?")
    assert api.get("/sdk/projects/").status_code == 404


def test_files_go_up_as_the_body_and_come_down_streamed(api):
    body = uuid.uuid4().bytes * 50_000  # 800 kB, unique to this test
    up = api.post("/data_files/upload/", params={"name": "weights.bin", "meta": '{"epoch": 3}'}, content=body)
    assert up.status_code == 201, up.text
    record = up.json()
    assert (record["checksum"], record["size"], record["meta"]) == (
        hashlib.sha256(body).hexdigest(),
        len(body),
        {"epoch": 3},
    )
    assert (
        api.post("/data_files/upload/", params={"name": "weights.bin"}, content=body).json()["id"]
        == record["id"]
    )
    down = api.get(f"/data_files/{record['id']}/download/")
    assert down.content == body and down.headers["x-checksum-sha256"] == record["checksum"]
    assert down.headers["content-length"] == str(len(body))
    missing = api.post("/data_files/upload/", content=b"x")
    assert (missing.status_code, missing.json()["errors"]) == (
        400,
        {"query.name": ["required; give the file's name, like 'cat.jpg'"]},
    )
    assert api.get("/data_files/999999999/download/").status_code == 404


def test_the_openapi_schema_documents_every_route(server):
    schema = httpx.get(f"{server.url}/openapi.json").json()
    paths = schema["paths"]
    for name, spec in RESOURCES.items():
        listing, one = paths[f"/{name}/"], paths[f"/{name}/{{record_id}}/"]
        assert set(listing) == {"get", "post"} and set(one) == {"get", "patch", "delete"}
        create = listing["post"]["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
        assert create[0]["type"] == "object" and create[1]["items"] == create[0]
        assert set(create[0]["properties"]) == set(spec.fields)
        assert create[0]["additionalProperties"] is False
        assert set(create[0]["required"]) == set(spec.fields) - set(spec.defaults)
        change = one["patch"]["requestBody"]["content"]["application/json"]["schema"]
        assert set(change["properties"]) == set(spec.updatable)
        parameters = {p["name"] for p in listing["get"]["parameters"]}
        assert parameters == {*spec.filters, "page", "page_size", "pagination", "cursor"}
        results = listing["get"]["responses"]["200"]["content"]["application/json"]["schema"]["properties"][
            "results"
        ]
        assert set(results["items"]["properties"]) == set(spec.columns)
        assert {"400", "401", "404", "409"} <= set(listing["post"]["responses"])
    for name in ("tasks", "assignments", "ground_truth_events"):
        assert set(paths[f"/sdk/{name}/"]) == {"get"}
    assert "$ref" not in str(
        paths["/data_collections/"]["post"]["requestBody"]
    )  # nested schemas written in place
    assert paths["/data_files/upload/"]["post"]["requestBody"]["content"]["application/octet-stream"]
    assert "get" in paths["/data_files/{record_id}/download/"]
    routes = {path for path in paths if not path.startswith(("/runs", "/releases", "/plugins", "/health"))}
    assert len(routes) == 2 * len(RESOURCES) + 3 + 2  # listing and record paths, sdk/ listings, file bytes


def test_get_backend_client_is_embedded_unless_synapse_host_is_set(server, monkeypatch):
    from synapse_sdk.backend.http import HttpBackend
    from synapse_sdk.backend.store import EmbeddedBackend

    assert isinstance(get_backend_client().backend, EmbeddedBackend)
    monkeypatch.setenv("SYNAPSE_HOST", server.url)
    monkeypatch.setenv("SYNAPSE_ACCESS_TOKEN", server.token)
    remote = get_backend_client()
    try:
        assert isinstance(remote.backend, HttpBackend)
        assert remote.get_default_storage()["name"] == "default"
    finally:
        remote.backend.close()  # the factory keeps one per server; this one's server is this module's
    with pytest.raises(UsageError, match="give the server's URL, like 'http://127.0.0.1:8100'"):
        BackendClient()
