"""Who gets in: the login page takes the token once; pages, JSON, streams and writes need the session."""

from __future__ import annotations

import time

import httpx
import pytest

from synapse_sdk.backend.server.dashboard import session


@pytest.fixture
def logged_in(dash):  # type: ignore[no-untyped-def]
    """An HTTP client that logged in through the form, and the login's answer."""
    with httpx.Client(base_url=dash.url, timeout=30) as client:
        reply = client.post("/login", content=f"token={dash.token}&next=/", headers={
            "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert reply.status_code == 303, reply.text
        yield client, reply


def test_without_the_session_pages_go_to_login_and_json_is_401(dash):
    with httpx.Client(base_url=dash.url, timeout=10) as anonymous:
        page = anonymous.get("/")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login")
        assert anonymous.get("/login").status_code == 200
        for path in ("/runs", "/runs/x/logs", "/projects/", "/ui/api/runs/x/files", "/releases"):
            assert anonymous.get(path).status_code == 401, path
        assert anonymous.post("/runs/x/stop").status_code == 401
        # a cookie that is not the session of this server's token is no session
        anonymous.cookies.set(session.COOKIE, session.session_value("another-token"))
        assert anonymous.get("/runs").status_code == 401
        assert anonymous.get("/").status_code == 303


def test_a_wrong_token_is_refused_at_the_login(dash):
    with httpx.Client(base_url=dash.url, timeout=10) as client:
        reply = client.post("/login", content="token=nope", headers={
            "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert reply.status_code == 401
        assert "not the access token of this server" in reply.text
        assert "set-cookie" not in reply.headers
        assert client.get(f"/login?token=wrong{dash.token}").status_code == 401


def test_login_sets_an_httponly_strict_cookie_and_the_pages_open(dash, logged_in):
    client, login = logged_in
    flags = [part.strip() for part in login.headers["set-cookie"].split(";")]
    assert flags[0] == f"{session.COOKIE}={session.session_value(dash.token)}"
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= set(flags)
    assert dash.token not in login.headers["set-cookie"]  # the token itself never sits in the browser
    page = client.get("/")
    assert page.status_code == 200
    assert f'<meta name="csrf-token" content="{session.csrf_token(dash.token)}">' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert client.get("/runs").status_code == 200
    assert client.get("/static/dashboard/app.js").headers["content-type"].startswith("text/javascript")


def test_the_login_link_of_synapse_ui_logs_in_and_next_stays_on_this_site(dash):
    with httpx.Client(base_url=dash.url, timeout=10) as client:
        reply = client.get(f"/login?token={dash.token}&next=//evil.example/")
        assert reply.status_code == 303
        assert reply.headers["location"] == "/"
        assert client.get("/runs").status_code == 200


def test_a_write_with_the_cookie_needs_the_csrf_token(dash, logged_in, start_job, store):
    start_job("csrf-1", steps=1000, delay=0.1)
    client, _ = logged_in
    refused = client.post("/runs/csrf-1/stop")
    assert refused.status_code == 403
    assert "x-csrf-token" in refused.json()["detail"]
    assert client.post("/runs/csrf-1/stop", headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    assert client.get("/runs/csrf-1/stop").status_code == 405  # a stop is never a link
    assert store.get_run("csrf-1").status in ("PENDING", "RUNNING")  # nothing was stopped
    ok = client.post("/runs/csrf-1/stop", headers={"X-CSRF-Token": session.csrf_token(dash.token)})
    assert ok.status_code == 202, ok.text
    deadline = time.monotonic() + 30
    while store.get_run("csrf-1").status != "STOPPED" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert store.get_run("csrf-1").status == "STOPPED"
    # the bearer token alone still works for API clients, without a CSRF token
    bearer = httpx.post(f"{dash.url}/runs/csrf-1/stop", headers={"Authorization": f"Bearer {dash.token}"})
    assert bearer.json() == {"id": "csrf-1", "stopping": False, "status": "STOPPED"}


def test_the_logout_ends_the_session(logged_in):
    client, _ = logged_in
    assert client.get("/runs").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/runs").status_code == 401


@pytest.mark.parametrize(
    "path", ["../../synapse.db", "..%2F..%2Fsynapse.db", "/etc/passwd"], ids=["dots", "encoded", "abs"]
)
def test_run_files_stay_inside_the_run_folder(dash, start_job, path):
    start_job("files-1", steps=1, delay=0)
    headers = {"Authorization": f"Bearer {dash.token}"}
    reply = httpx.get(f"{dash.url}/ui/api/runs/files-1/files/run/{path}", headers=headers)
    assert reply.status_code == 404
    assert b"SQLite" not in reply.content


def test_answers_other_than_pages_are_sandboxed(dash):
    reply = httpx.get(f"{dash.url}/health")
    assert reply.headers["content-security-policy"].startswith("sandbox")
    assert reply.headers["x-content-type-options"] == "nosniff"
