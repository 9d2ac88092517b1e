// Plugins and their releases (the registry), each with a link to its runs.

import { getJSON } from "./api.js";
import { clear, fmtBytes, fmtTime, h } from "./dom.js";

export async function pluginsView(view) {
  const releases = await getJSON("/releases");
  const byCode = new Map();
  for (const release of releases) {
    if (!byCode.has(release.code)) byCode.set(release.code, []);
    byCode.get(release.code).push(release);
  }
  clear(view, h("h1", {}, "Plugins and releases"),
    !byCode.size ? h("p", { class: "muted" }, "No release published yet (synapse plugin publish).") : null,
    [...byCode].map(([code, list]) => h("section", { class: "card plugin", dataset: { code } },
      h("h2", {}, list[0].name || code, " ", h("code", {}, code), " ", h("span", { class: "muted" }, list[0].category)),
      list[0].description ? h("p", {}, list[0].description) : null,
      h("p", {}, h("a", { href: `#/runs?plugin=${encodeURIComponent(code)}` }, "Runs of this plugin")),
      h("table", {},
        h("thead", {}, h("tr", {}, ["Version", "Published", "Actions", "Size", "sha256"].map((t) => h("th", {}, t)))),
        h("tbody", {}, list.map((r) => h("tr", { class: "release" },
          h("td", {}, r.version), h("td", {}, fmtTime(r.created_at)),
          h("td", {}, Object.keys((r.config && r.config.actions) || {}).join(", ") || "—"),
          h("td", {}, fmtBytes(r.size)), h("td", { class: "mono small" }, String(r.checksum).slice(0, 16) + "…"))))))));
}
