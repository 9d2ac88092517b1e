"""From ``set_progress`` in an action to the run page's DOM in Chromium: p95 at most 1 s.

A real job (``synapse plugin run``, a detached worker writing to the embedded store) calls
``set_progress`` 40 times, 0.25 s apart, noting the wall-clock time of each call in its run
folder. ``synapse backend serve`` serves the same store; a headless Chromium has the run's page
open, live over the server-sent event stream, and a MutationObserver notes when the page first
shows each value (or a later one). Latency = that moment - the call's. Target: p95 at most 1 s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import write_plugin
from _dashboard import SYNAPSE, backend_server, chromium, logged_in, p95

STEPS = 40
TARGET_SECONDS = 1.0
CONFIG = """\
code: live-bench
name: Live bench
version: 0.1.0
category: neural_net
actions:
  count:
    entrypoint: plugin.count.Count
    method: job
"""
SOURCE = """\
import time

from synapse_sdk.plugins.categories.base import Action


class Count(Action):
    name = "count"

    def start(self):
        steps = int(self.params["steps"])
        time.sleep(3.0)  # the page opens meanwhile
        with open(self.run.path / "sent.txt", "w") as sent:
            for i in range(1, steps + 1):
                sent.write(f"{i} {time.time()}\\n")
                sent.flush()
                self.run.set_progress(i, steps, "training")
                time.sleep(0.25)
        return {"steps": steps}
"""
#: Notes, in the page, when each progress value is first shown (seconds since the epoch).
OBSERVE = """() => {
  window.__seen = {};
  const note = () => {
    const el = document.querySelector(".progress-item[data-category='training'] .progress-numbers");
    const value = el ? parseInt(el.textContent, 10) : NaN;
    if (!Number.isNaN(value) && !(value in window.__seen)) window.__seen[value] = Date.now() / 1000;
  };
  const what = {childList: true, subtree: true, characterData: true};
  new MutationObserver(note).observe(document.getElementById("view"), what);
  note();
}"""


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        plugin = write_plugin(Path(tmp), CONFIG, {"count.py": SOURCE})
        with backend_server(home) as (url, token), chromium() as browser:
            context = logged_in(browser, url, token)
            env = {**os.environ, "SYNAPSE_HOME": str(home)}
            env.pop("SYNAPSE_HOST", None)
            submit = [SYNAPSE, "plugin", "run", "count", json.dumps({"steps": STEPS}), "--job-id", "live"]
            subprocess.run(submit, cwd=plugin, env=env, check=True, capture_output=True, timeout=120)
            page = context.new_page()
            page.goto(f"{url}/#/runs/live")
            page.wait_for_selector("#view .run-head h1")
            page.evaluate(OBSERVE)
            page.wait_for_selector("main[data-status='SUCCEEDED']", timeout=120_000)
            live = page.get_attribute("#view", "data-live")
            seen = {int(k): v for k, v in page.evaluate("window.__seen").items()}
            context.close()
        sent = dict(line.split() for line in (home / "runs" / "live" / "sent.txt").read_text().splitlines())
    latencies = []
    for step, at in sorted((int(k), float(v)) for k, v in sent.items()):
        shown = [t for value, t in seen.items() if value >= step]  # that value, or a later one
        if not shown:
            print(f"FAIL: step {step} never reached the page")
            return 1
        latencies.append(min(shown) - at)
    worst = p95(latencies)
    ok = worst <= TARGET_SECONDS and live == "stream"
    print(f"set_progress -> run page DOM ({live}): median {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {worst * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms over {len(latencies)} calls "
          f"({len(seen)} distinct values shown)")  # fmt: skip
    print(f"ratio p95/target: {worst / TARGET_SECONDS:.2f} (target <= {TARGET_SECONDS:.1f}s) -> "
          f"{'OK' if ok else 'MISSED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
