// One run, live: progress bars with rate and ETA, metric charts from the full history, logs that
// follow (level filter, search), params, result or error, attempts, the run's files, a stop button.

import { getJSON, openStream, post } from "./api.js";
import { drawInto, lineChart } from "./chart.js";
import { ACTIVE, clear, fmtBytes, fmtDuration, fmtNumber, fmtTime, h, progressBar, runDuration, setBarWidths,
         statusBadge } from "./dom.js";

const LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
const SHOWN_LOGS = 2000;
const X_KEYS = ["step", "epoch", "iteration"];

function block(title, ...content) {
  return h("section", { class: "card" }, h("h2", {}, title), ...content);
}

function pretty(value) {
  return JSON.stringify(value, null, 2);
}

export async function runView(view, [runId]) {
  const base = `/runs/${encodeURIComponent(runId)}`;
  let run = await getJSON(base);
  const progress = new Map();  // category -> {entry, samples: [[t, current]], el}
  const charts = new Map();    // "category/key" -> {points, el}
  const logs = [];
  const seenLogs = new Set();
  const seenMetrics = new Set();
  let stream = null, poll = null, closed = false;

  // -- layout ------------------------------------------------------------------------------
  const head = h("div", { class: "run-head" });
  const stopButton = h("button", { type: "button", class: "danger", id: "stop" }, "Stop run");
  const progressBox = h("div", { class: "progress-list" });
  const chartsBox = h("div", { class: "charts" });
  const level = h("select", { "aria-label": "minimum level", name: "level" },
    h("option", { value: "" }, "all levels"), LEVELS.map((l) => h("option", { value: l }, `${l} and above`)));
  const searchBox = h("input", { type: "search", placeholder: "search the logs", "aria-label": "search logs", name: "search" });
  const followBox = h("input", { type: "checkbox", checked: true, "aria-label": "follow" });
  const logCount = h("span", { class: "muted" });
  const logBox = h("div", { class: "logs", id: "logs", tabindex: 0 });
  const paramsBox = h("pre", { class: "json", id: "params" });
  const outcomeBox = h("div", { id: "outcome" });
  const attemptsBox = h("div", { id: "attempts" });
  const filesBox = h("div", { id: "files" });

  clear(view,
    h("p", {}, h("a", { href: "#/runs" }, "← Runs")),
    head,
    block("Progress", progressBox),
    block("Metrics", chartsBox),
    block("Logs", h("div", { class: "filters" }, level, searchBox, h("label", {}, followBox, " follow"), logCount), logBox),
    block("Result", outcomeBox),
    block("Params", paramsBox),
    block("Attempts", attemptsBox),
    block("Files", filesBox));

  stopButton.addEventListener("click", async () => {
    stopButton.disabled = true;
    stopButton.textContent = "Stopping…";
    try {
      const answer = await post(`${base}/stop`, { grace: 5 });  // 202: it stops in the server; the stream shows it
      if (answer && !answer.stopping) showRun(await getJSON(base));
    } catch (error) {
      stopButton.disabled = false;
      stopButton.textContent = "Stop run";
      head.append(h("p", { class: "error", role: "alert" }, `Could not stop: ${error.message}`));
    }
  });

  // -- the record --------------------------------------------------------------------------
  function showRun(record) {
    run = { ...run, ...record };
    const plugin = run.plugin_code ? `${run.plugin_code}@${run.plugin_version || "?"}` : "—";
    clear(head,
      h("h1", {}, "Run ", h("span", { class: "mono" }, run.id), " ", statusBadge(run.status)),
      h("dl", { class: "facts" },
        h("dt", {}, "Plugin"), h("dd", {}, h("a", { href: `#/runs?plugin=${encodeURIComponent(run.plugin_code || "")}` }, plugin)),
        h("dt", {}, "Action"), h("dd", {}, `${run.action || "—"} (${run.category || "—"}, ${run.method || "—"})`),
        h("dt", {}, "Created"), h("dd", {}, fmtTime(run.created_at)),
        h("dt", {}, "Started"), h("dd", {}, fmtTime(run.started_at)),
        h("dt", {}, "Finished"), h("dd", {}, fmtTime(run.finished_at)),
        h("dt", {}, "Duration"), h("dd", { id: "duration" }, fmtDuration(runDuration(run))),
        h("dt", {}, "Host"), h("dd", {}, run.host ? `${run.host}${run.pid ? " pid " + run.pid : ""}` : "—")),
      ACTIVE.has(run.status) ? stopButton : null,
      run.stop_requested && ACTIVE.has(run.status) ? h("p", { class: "muted" }, "A stop was asked for.") : null,
      run.lost_events ? h("p", { class: "error" }, `${run.lost_events} event(s) of this run were lost.`) : null);
    view.dataset.status = run.status;
    paramsBox.textContent = pretty(run.params || {});
    clear(outcomeBox,
      run.error ? h("pre", { class: "error-text", id: "error" }, run.error) : null,
      run.result !== null && run.result !== undefined ? h("pre", { class: "json", id: "result" }, pretty(run.result)) : null,
      !run.error && (run.result === null || run.result === undefined)
        ? h("p", { class: "muted" }, ACTIVE.has(run.status) ? "Not finished yet." : "No result.") : null);
    showAttempts(run.attempts || []);
    for (const [category, entry] of Object.entries(run.progress || {})) setProgress({ category, ...entry });
  }

  function showAttempts(attempts) {
    if (!attempts.length) { clear(attemptsBox, h("p", { class: "muted" }, "One attempt (not retried).")); return; }
    clear(attemptsBox, h("table", {},
      h("thead", {}, h("tr", {}, ["#", "Started", "Finished", "Outcome", "Exit", "Host", "Error"].map((t) => h("th", {}, t)))),
      h("tbody", {}, attempts.map((a) => h("tr", { class: "attempt" },
        h("td", {}, a.number), h("td", {}, fmtTime(a.started_at)), h("td", {}, fmtTime(a.finished_at)),
        h("td", {}, a.outcome || "running"), h("td", {}, a.signal || (a.exit_code ?? "—")),
        h("td", {}, a.host ? `${a.host}${a.pid ? " pid " + a.pid : ""}` : "—"),
        h("td", {}, a.error ? h("pre", { class: "error-text small" }, a.error) : "—"))))));
  }

  // -- progress ----------------------------------------------------------------------------
  function setProgress(event) {
    const { category } = event;
    let slot = progress.get(category);
    if (!slot) {
      slot = { samples: [], el: h("div", { class: "progress-item", dataset: { category } }) };
      progress.set(category, slot);
      progressBox.append(slot.el);
    }
    const now = (event.updated_at || Date.now() / 1000);
    const last = slot.samples[slot.samples.length - 1];
    if (!last || last[1] !== event.current) slot.samples.push([now, event.current]);
    while (slot.samples.length > 2 && now - slot.samples[0][0] > 10) slot.samples.shift();
    let rate = event.rate ?? null, eta = event.eta ?? null;
    if (rate === null && slot.samples.length >= 2) {
      const [t0, c0] = slot.samples[0], [t1, c1] = slot.samples[slot.samples.length - 1];
      if (t1 > t0 && c1 >= c0) rate = (c1 - c0) / (t1 - t0);
    }
    if (eta === null && rate) eta = Math.max(0, (event.total - event.current) / rate);
    if (event.current >= event.total) eta = 0;
    const text = `${fmtNumber(event.current)} / ${fmtNumber(event.total)}`
      + (rate ? ` · ${rate.toFixed(rate < 10 ? 2 : 1)}/s` : "") + (eta !== null ? ` · ETA ${fmtDuration(eta)}` : "");
    clear(slot.el, h("div", { class: "progress-label" }, h("strong", {}, category), " ", h("span", { class: "progress-numbers" }, text)),
      progressBar(event, `${category} progress`));
    setBarWidths(slot.el);
    progressBox.dataset.updated = String(Date.now());
    if (progress.size && progressBox.querySelector(".muted")) progressBox.querySelector(".muted").remove();
  }

  // -- metrics -----------------------------------------------------------------------------
  function addMetric(item, redraw = true) {
    const values = item.values || {};
    const xKey = X_KEYS.find((k) => typeof values[k] === "number");
    for (const [key, value] of Object.entries(values)) {
      if (typeof value !== "number" || X_KEYS.includes(key) || !isFinite(value)) continue;
      const name = `${item.category}/${key}`;
      let chart = charts.get(name);
      if (!chart) {
        chart = { points: [], svg: lineChart([], { label: name }) };
        charts.set(name, chart);
        chartsBox.append(h("figure", { class: "chart-box", dataset: { metric: name } },
          h("figcaption", {}, h("strong", {}, key), ` (${item.category})`), chart.svg));
      }
      chart.points.push([xKey ? values[xKey] : chart.points.length + 1, value]);
      chart.dirty = true;
    }
    if (redraw) drawCharts();
  }

  function drawCharts() {
    for (const [name, chart] of charts) {
      if (chart.dirty) { drawInto(chart.svg, chart.points, name); chart.dirty = false; }
    }
    if (!charts.size && !chartsBox.children.length) chartsBox.append(h("p", { class: "muted" }, "No metrics yet."));
    else if (charts.size) chartsBox.querySelector(":scope > p.muted")?.remove();
  }

  // -- logs --------------------------------------------------------------------------------
  function visible(entry) {
    const min = level.value ? LEVELS.indexOf(level.value) : -1;
    const needle = searchBox.value.trim().toLowerCase();
    return LEVELS.indexOf(entry.level) >= min && (!needle || String(entry.message).toLowerCase().includes(needle));
  }

  function logLine(entry) {
    return h("div", { class: `log-line level-${String(entry.level).toLowerCase()}`, dataset: { seq: entry.seq } },
      h("span", { class: "ts" }, fmtTime(entry.ts).slice(11)), h("span", { class: "lvl" }, entry.level),
      h("span", { class: "msg" }, entry.message ?? ""),
      entry.event ? h("span", { class: "evt" }, ` ${entry.event} ${entry.data === null ? "" : JSON.stringify(entry.data)}`) : null);
  }

  function renderLogs() {
    const shown = logs.filter(visible).slice(-SHOWN_LOGS);
    logBox.replaceChildren(...shown.map(logLine));
    if (!logs.length) logBox.append(h("p", { class: "muted" }, "No log entries yet."));
    logCount.textContent = `${shown.length} of ${logs.length} entries shown`;
    if (followBox.checked) logBox.scrollTop = logBox.scrollHeight;
  }

  function addLog(entry, render = true) {
    if (seenLogs.has(entry.seq)) return;
    seenLogs.add(entry.seq);
    logs.push(entry);
    if (!render) return;
    if (logs.length === 1) logBox.replaceChildren();
    if (visible(entry)) {
      logBox.append(logLine(entry));
      while (logBox.children.length > SHOWN_LOGS) logBox.firstChild.remove();
      if (followBox.checked) logBox.scrollTop = logBox.scrollHeight;
    }
    logCount.textContent = `${logBox.querySelectorAll(".log-line").length} of ${logs.length} entries shown`;
  }
  level.addEventListener("change", renderLogs);
  searchBox.addEventListener("input", renderLogs);

  // -- files -------------------------------------------------------------------------------
  async function showFiles() {
    let listing;
    try { listing = await getJSON(`/ui/api/runs/${encodeURIComponent(runId)}/files`); }
    catch (error) { clear(filesBox, h("p", { class: "error" }, error.message)); return; }
    let images = 0;
    clear(filesBox, listing.folders.map((folder) => h("div", { class: "folder" },
      h("h3", {}, folder.title, " ", h("code", {}, folder.path)),
      !folder.exists ? h("p", { class: "muted" }, "Not made (yet).")
        : !folder.files.length ? h("p", { class: "muted" }, "Empty.")
        : h("ul", { class: "files" }, folder.files.map((file) => {
          const href = `/ui/api/runs/${encodeURIComponent(runId)}/files/${folder.where}/${file.path.split("/").map(encodeURIComponent).join("/")}`;
          const showInline = file.inline && images++ < 8;
          return h("li", {}, h("a", { href, download: file.path.split("/").pop() }, file.path), ` ${fmtBytes(file.size)}`,
            showInline ? h("div", {}, h("img", { src: href, alt: file.path, class: "artifact", loading: "lazy" })) : null);
        })),
      folder.truncated ? h("p", { class: "muted" }, "Only the first files are listed.") : null)));
  }

  // -- live --------------------------------------------------------------------------------
  function ended() {
    closed = true;
    if (stream) { stream.close(); stream = null; }
    if (poll) { clearInterval(poll); poll = null; }
    showFiles();
  }

  async function pollOnce() {
    const record = await getJSON(base);
    showRun(record);
    const after = logs.length ? logs[logs.length - 1].seq : 0;
    for (const entry of await getJSON(`${base}/logs?after=${after}&limit=5000`)) addLog(entry);
    const history = await getJSON(`${base}/metrics`);
    if (history.length !== seenMetrics.size) {
      charts.clear(); chartsBox.replaceChildren(); seenMetrics.clear();
      history.forEach((item, i) => { seenMetrics.add(i); addMetric(item, false); });
      drawCharts();
    }
    if (!ACTIVE.has(record.status)) ended();
  }

  showRun(run);
  drawCharts();
  renderLogs();
  showFiles();
  const clock = setInterval(() => {
    const cell = head.querySelector("#duration");
    if (cell && ACTIVE.has(run.status)) cell.textContent = fmtDuration(runDuration(run));
  }, 1000);

  let pendingMetrics = false;
  view.dataset.live = "stream";
  stream = openStream(`${base}/events/stream`, {
    status: (record) => showRun(record),
    progress: (event) => setProgress(event),
    metrics: (item) => {
      if (item.seq !== undefined) { if (seenMetrics.has(item.seq)) return; seenMetrics.add(item.seq); }
      addMetric(item, false);
      if (!pendingMetrics) { pendingMetrics = true; requestAnimationFrame(() => { pendingMetrics = false; drawCharts(); }); }
    },
    log: (entry) => addLog(entry),
    end: (event) => { showRun({ status: event.status, error: event.error ?? run.error }); ended(); getJSON(base).then(showRun); },
  }, () => {
    if (closed) return;
    view.dataset.live = "poll";
    pollOnce().catch(() => {});
    poll = setInterval(() => pollOnce().catch(() => {}), 1000);
  });

  return () => { closed = true; clearInterval(clock); if (poll) clearInterval(poll); if (stream) stream.close(); };
}
