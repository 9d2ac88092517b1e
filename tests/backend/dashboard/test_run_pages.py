"""The runs pages in real headless Chromium: a run's progress, chart and logs move live; stop; escaping."""

from __future__ import annotations

import time

import httpx

from tests.backend.dashboard.conftest import png_bytes


def _wait_status(page, status: str, timeout: float = 30_000) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(f"main[data-status='{status}']", timeout=timeout)


def test_a_run_moves_live_progress_chart_and_logs(page, dash, start_job, store):
    start_job("live-1", steps=30, delay=0.25)
    page.goto(f"{dash.url}/#/runs")
    # A locator, not an element handle: the live list redraws the row as the run's progress arrives.
    row = page.locator("tr.run-row[data-run-id='live-1']")
    row.wait_for()
    assert "slow-train@0.1.0" in row.inner_text()
    row.locator("a").click()
    page.wait_for_selector("#view .progress-item[data-category='training']", timeout=30_000)
    bar = "#view .progress-item[data-category='training'] .bar"
    chart = "#view figure[data-metric='training/loss'] svg"
    first_bar = float(page.get_attribute(bar, "aria-valuenow"))
    first_points = int(page.get_attribute(chart, "data-points"))
    page.wait_for_function(
        "([bar, chart, p, n]) => Number(document.querySelector(bar).getAttribute('aria-valuenow')) > p"
        " && Number(document.querySelector(chart).getAttribute('data-points')) > n",
        arg=[bar, chart, first_bar, first_points],
        timeout=20_000,
    )
    assert page.get_attribute("#view", "data-live") == "stream"  # pushed by the server, not polled
    assert "ETA" in page.inner_text("#view .progress-item[data-category='training']")
    page.wait_for_selector("#logs .log-line:has-text('epoch 3 done')")
    _wait_status(page, "SUCCEEDED")
    assert page.get_attribute(chart, "data-points") == "30"  # the whole history, none twice
    assert "final_loss" in page.inner_text("#result")
    assert store.get_run("live-1").status == "SUCCEEDED"
    # the level filter and the search narrow the log lines
    page.fill("input[name=search]", "epoch 2")
    assert page.locator("#logs .log-line").all_inner_texts() == [
        t for t in page.locator("#logs .log-line").all_inner_texts() if "epoch 2" in t
    ]
    assert page.locator("#logs .log-line").count() == 1 + 10  # "epoch 2 done" and "epoch 20..29 done"
    page.fill("input[name=search]", "")
    page.select_option("select[name=level]", "WARNING")
    assert page.locator("#logs .log-line").count() == 0


def test_the_runs_page_follows_new_runs_and_their_progress_without_reloading(page, dash, start_job):
    page.goto(f"{dash.url}/#/runs")
    page.wait_for_selector("h1:text('Runs')")
    page.evaluate("window.__same_page = true")
    start_job("list-live-1", steps=40, delay=0.2)
    row = "tr.run-row[data-run-id='list-live-1']"
    page.wait_for_selector(f"{row} .bar", timeout=30_000)  # it appeared, with progress, on its own
    seen = float(page.get_attribute(f"{row} .bar", "aria-valuenow"))
    page.wait_for_function(
        "([sel, seen]) => Number(document.querySelector(sel)?.getAttribute('aria-valuenow')) > seen",
        arg=[f"{row} .bar", seen],
        timeout=20_000,
    )
    page.wait_for_selector(f"{row}[data-status='SUCCEEDED']", timeout=30_000)
    assert page.evaluate("window.__same_page") is True  # no reload happened
    assert page.get_attribute("#view", "data-live") == "stream"


def test_the_stop_button_stops_a_running_job(page, dash, start_job, store):
    start_job("stop-1", steps=2000, delay=0.1)
    page.goto(f"{dash.url}/#/runs/stop-1")
    _wait_status(page, "RUNNING")
    page.wait_for_selector("#logs .log-line:has-text('epoch 2 done')", timeout=30_000)
    page.click("#stop")
    _wait_status(page, "STOPPED")
    record = store.get_run("stop-1")
    assert record.status == "STOPPED"
    assert record.progress["training"]["current"] < 2000
    assert page.locator("#stop").count() == 0


def test_logged_html_params_and_errors_are_shown_as_text_and_never_run(page, dash, start_job):
    attack = "<script>window.__pwned = 1</script>"
    image = '<img src=x onerror="window.__pwned = 2">'
    start_job(
        "xss-1", steps=1, delay=0, messages=[attack, image], fail=image,
        note=attack, api_key="do-not-show-me",
    )  # fmt: skip
    page.goto(f"{dash.url}/#/runs/xss-1")
    _wait_status(page, "FAILED")
    page.wait_for_selector("#logs .log-line")
    texts = page.locator("#logs .msg").all_inner_texts()
    assert attack in texts and image in texts
    assert image in page.inner_text("#error")
    params = page.inner_text("#params")
    assert attack in params and "do-not-show-me" not in params and "***" in params
    assert page.locator("#view script, #view img[src='x']").count() == 0
    page.goto(f"{dash.url}/#/runs")
    page.wait_for_selector("tr.run-row[data-run-id='xss-1']")
    assert page.evaluate("window.__pwned") is None


def test_the_run_folder_lists_artifacts_with_a_png_inline_and_downloads(page, dash, start_job):
    artifacts = {"confusion_matrix.png": png_bytes(40, 30).hex(), "notes.txt": b"hello".hex()}
    start_job("files-2", steps=1, delay=0, artifacts=artifacts)
    page.goto(f"{dash.url}/#/runs/files-2")
    _wait_status(page, "SUCCEEDED")
    image = page.wait_for_selector("#files img.artifact")
    page.wait_for_function("img => img.complete && img.naturalWidth === 40", arg=image)
    link = page.locator("#files a:has-text('notes.txt')")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "notes.txt"
    assert page.locator("#files a:has-text('worker.log')").count() == 1
    reply = httpx.get(
        dash.url + link.get_attribute("href"), headers={"Authorization": f"Bearer {dash.token}"}
    )
    assert reply.content == b"hello"
    assert reply.headers["content-disposition"].startswith("attachment")


def test_runs_page_filters_by_status_and_pages_through_older_runs(page, dash):
    headers = {"Authorization": f"Bearer {dash.token}"}
    with httpx.Client(base_url=dash.url, headers=headers, timeout=30) as api:
        for i in range(60):
            new = {
                "id": f"bulk-{i:03d}",
                "plugin_code": "bulk",
                "plugin_version": "1.0.0",
                "action": "a" if i % 2 else "b",
            }
            assert api.post("/runs", json=new).status_code == 201
            time.sleep(0.001)  # distinct creation times: newest first is well defined
        assert api.post("/runs/bulk-059/transition", json={"expected": ["PENDING"], "new": "RUNNING"}).json()[
            "moved"
        ]
    page.goto(f"{dash.url}/#/runs")
    page.wait_for_selector("tr.run-row[data-run-id='bulk-059']")
    assert page.locator("tr.run-row").count() == 50
    assert page.locator("tr.run-row").first.get_attribute("data-run-id") == "bulk-059"
    page.click("button:has-text('Older')")
    page.wait_for_selector("tr.run-row[data-run-id='bulk-000']")
    assert page.locator("tr.run-row").count() == 10
    page.click("button:has-text('Newer')")
    page.wait_for_selector("tr.run-row[data-run-id='bulk-059']")
    page.select_option("select[name=status]", "RUNNING")
    page.wait_for_function("() => document.querySelectorAll('tr.run-row').length === 1")
    assert page.locator("tr.run-row").first.get_attribute("data-run-id") == "bulk-059"
    page.goto(f"{dash.url}/#/runs?action=a")
    page.wait_for_selector("tr.run-row[data-run-id='bulk-059']")
    assert page.locator("tr.run-row").count() == 30
