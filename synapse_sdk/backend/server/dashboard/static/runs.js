// The runs list: filters, keyset pages (newest first), and rows kept live by the runs' event stream.

import { getWithHeaders, openStream, query } from "./api.js";
import { ACTIVE, clear, fmtDuration, fmtTime, h, progressBar, runDuration, setBarWidths, statusBadge } from "./dom.js";

const STATUSES = ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED"];
const PAGE = 50;

function mainProgress(run) {
  const entries = Object.entries(run.progress || {});
  if (!entries.length) return null;
  const working = entries.filter(([name]) => name !== "environment");
  return (working.length ? working : entries)[0];
}

function progressCell(run) {
  const main = mainProgress(run);
  if (!main) return h("td", { class: "progress muted" }, "—");
  const [category, entry] = main;
  const cell = h("td", { class: "progress" }, progressBar(entry, `${category} progress`), h("small", {}, category));
  setBarWidths(cell);
  return cell;
}

function row(run) {
  const plugin = run.plugin_code ? `${run.plugin_code}${run.plugin_version ? "@" + run.plugin_version : ""}` : "—";
  return h("tr", { class: "run-row", dataset: { runId: run.id, status: run.status } },
    h("td", {}, h("a", { href: `#/runs/${encodeURIComponent(run.id)}`, class: "mono" }, run.id)),
    h("td", {}, statusBadge(run.status)),
    h("td", {}, plugin),
    h("td", {}, run.action || "—"),
    h("td", {}, run.method || "—"),
    h("td", {}, fmtTime(run.started_at || run.created_at)),
    h("td", { class: "duration", dataset: { started: run.started_at || "", finished: run.finished_at || "" } },
      fmtDuration(runDuration(run))),
    progressCell(run));
}

export async function runsView(view, _args, search) {
  const filters = { status: search.get("status") || "", plugin: search.get("plugin") || "",
                    action: search.get("action") || "" };
  const cursors = [];        // the "before" of each page shown so far (null: the newest)
  let before = search.get("before") || null;
  let stream = null, poll = null, noStream = false;

  const tbody = h("tbody");
  const info = h("span", { class: "muted" });
  const newer = h("button", { type: "button", disabled: true }, "← Newer");
  const older = h("button", { type: "button", disabled: true }, "Older →");
  const status = h("select", { name: "status", "aria-label": "status" },
    h("option", { value: "" }, "any status"), STATUSES.map((s) => h("option", { value: s, selected: s === filters.status }, s)));
  const plugin = h("input", { name: "plugin", placeholder: "plugin code", value: filters.plugin, "aria-label": "plugin" });
  const action = h("input", { name: "action", placeholder: "action", value: filters.action, "aria-label": "action" });
  const form = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    location.hash = `#/runs${query({ status: status.value, plugin: plugin.value.trim(), action: action.value.trim() })}`;
  } }, status, plugin, action, h("button", { type: "submit" }, "Filter"));
  status.addEventListener("change", () => form.requestSubmit());

  clear(view,
    h("h1", {}, "Runs"), form,
    h("table", { class: "runs" },
      h("thead", {}, h("tr", {}, ["Run", "Status", "Plugin", "Action", "Method", "Started", "Duration", "Progress"].map((t) => h("th", {}, t)))),
      tbody),
    h("div", { class: "pager" }, newer, older, info));

  const rows = new Map();
  function put(run, atTop) {
    const fresh = row(run);
    const old = rows.get(run.id);
    if (old) old.replaceWith(fresh);
    else if (atTop) tbody.prepend(fresh);
    else tbody.append(fresh);
    rows.set(run.id, fresh);
  }

  function matches(run) {
    return (!filters.status || run.status === filters.status) && (!filters.plugin || run.plugin_code === filters.plugin)
      && (!filters.action || run.action === filters.action);
  }

  async function load() {
    const params = { limit: PAGE, summary: "true", status: filters.status, plugin: filters.plugin, action: filters.action, before };
    const { body, headers } = await getWithHeaders(`/runs${query(params)}`);
    rows.clear();
    tbody.replaceChildren();
    for (const run of body) put(run, false);
    if (!body.length) tbody.append(h("tr", {}, h("td", { colspan: 8, class: "muted" }, "No runs match.")));
    const next = headers.get("X-Next-Cursor");
    older.disabled = !next;
    older.onclick = () => { cursors.push(before); before = next; load(); };
    newer.disabled = !cursors.length;
    newer.onclick = () => { before = cursors.pop() ?? null; load(); };
    info.textContent = `${body.length} run(s) on this page${before ? "" : ", newest first"}`;
    view.dataset.loaded = String(Date.now());
    follow(headers.get("X-Runs-Rev"));
  }

  function follow(rev) {
    if (stream) { stream.close(); stream = null; }
    if (before || noStream) return;  // older pages do not move: only the newest page follows changes
    const params = { after: rev, status: filters.status, plugin: filters.plugin, action: filters.action };
    view.dataset.live = "stream";
    stream = openStream(`/runs/events/stream${query(params)}`, {
      run: ({ change, run }) => {
        if (!run) return;
        if (rows.has(run.id)) {
          if (matches(run)) put(run, false);
          else { rows.get(run.id).remove(); rows.delete(run.id); }
        } else if (change === "created" && matches(run)) {
          put(run, true);
        }
      },
    }, () => { noStream = true; view.dataset.live = "poll"; poll ??= setInterval(() => { if (!before) load(); }, 2000); });
  }

  const ticker = setInterval(() => {
    const now = Date.now() / 1000;
    for (const cell of tbody.querySelectorAll("td.duration")) {
      const started = Number(cell.dataset.started), finished = Number(cell.dataset.finished);
      if (started && !finished && ACTIVE.has(cell.parentElement.dataset.status)) cell.textContent = fmtDuration(now - started);
    }
  }, 1000);

  await load();
  return () => { clearInterval(ticker); if (poll) clearInterval(poll); if (stream) stream.close(); };
}
