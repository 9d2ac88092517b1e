// The dashboard's router: the part of the URL after "#" picks the view; each view cleans up on leave.

import { clear, h } from "./dom.js";
import { runsView } from "./runs.js";
import { runView } from "./run.js";
import { pluginsView } from "./plugins.js";
import { modelsView, projectsView, projectView, taskView } from "./platform.js";

const routes = [
  [/^#?\/?$/, () => runsView],
  [/^#\/runs(?:\?.*)?$/, () => runsView],
  [/^#\/runs\/([^/?]+)$/, () => runView],
  [/^#\/plugins$/, () => pluginsView],
  [/^#\/projects$/, () => projectsView],
  [/^#\/projects\/(\d+)(?:\?.*)?$/, () => projectView],
  [/^#\/tasks\/(\d+)$/, () => taskView],
  [/^#\/models$/, () => modelsView],
];

let leave = null;

async function show() {
  if (leave) { try { leave(); } catch { /* the old view is gone anyway */ } leave = null; }
  const view = document.getElementById("view");
  const hash = location.hash || "#/runs";
  for (const [pattern, pick] of routes) {
    const match = hash.match(pattern);
    if (!match) continue;
    const [, ...args] = match;
    const search = new URLSearchParams(hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "");
    for (const key of Object.keys(view.dataset)) delete view.dataset[key];  // no state of the last view
    clear(view, h("p", { class: "muted" }, "Loading…"));
    for (const link of document.querySelectorAll("header nav a")) {
      link.classList.toggle("active", hash.startsWith(link.getAttribute("href").split("?")[0]));
    }
    try {
      leave = (await pick()(view, args.map(decodeURIComponent), search)) || null;
    } catch (error) {
      clear(view, h("p", { class: "error", role: "alert" }, String(error.message || error)));
    }
    return;
  }
  clear(view, h("p", { class: "error" }, "No such page. "), h("a", { href: "#/runs" }, "Back to the runs"));
}

window.addEventListener("hashchange", show);
show();
