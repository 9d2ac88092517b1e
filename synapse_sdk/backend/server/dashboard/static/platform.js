// The platform: projects -> tasks (thumbnails with their boxes drawn), ground-truth versions, models.

import { getJSON, query } from "./api.js";
import { clear, fmtNumber, fmtTime, h, svg } from "./dom.js";

const TASKS_PAGE = 24;

async function listing(name, params = {}) {
  return getJSON(`/${name}/${query({ page_size: 100, ...params })}`);
}

// The first image file of a task's data unit, as a download URL (null: none).
async function imageOf(task) {
  if (!task.data_unit) return null;
  const unit = await getJSON(`/data_units/${task.data_unit}/`);
  const entries = Object.values(unit.files || {});
  return entries.length ? `/data_files/${entries[0].data_file}/download/` : null;
}

// The boxes of the first image of an annotation (DM v2), as [x, y, w, h, class].
function boxes(annotation) {
  const image = annotation && Array.isArray(annotation.images) ? annotation.images[0] : null;
  return ((image && image.bounding_box) || []).filter((b) => Array.isArray(b.data) && b.data.length === 4);
}

// An image with its boxes drawn over it (an SVG in the image's own pixels).
export function annotatedImage(src, annotation, predictions = [], big = false) {
  const figure = h("div", { class: big ? "annotated big" : "annotated" });
  const img = h("img", { src, alt: "task image", loading: "lazy" });
  const layer = svg("svg", { class: "boxes", preserveAspectRatio: "none" });
  img.addEventListener("load", () => {
    layer.setAttribute("viewBox", `0 0 ${img.naturalWidth} ${img.naturalHeight}`);
    const add = (box, kind) => {
      const [x, y, w, hgt] = box.data;
      layer.append(svg("g", { class: `box ${kind}`, "data-class": box.classification ?? "" },
        svg("rect", { x, y, width: w, height: hgt }),
        svg("text", { x: x + 2, y: Math.max(y - 3, 10) }, box.classification ?? ""),
        svg("title", {}, `${kind}: ${box.classification ?? ""}`)));
    };
    boxes(annotation).forEach((b) => add(b, "label"));
    for (const prediction of predictions || []) boxes(prediction.data).forEach((b) => add(b, "prediction"));
    figure.dataset.boxes = String(layer.querySelectorAll("g.box").length);
  });
  img.addEventListener("error", () => figure.classList.add("broken"));
  figure.append(img, layer);
  return figure;
}

export async function projectsView(view) {
  const page = await listing("projects");
  clear(view, h("h1", {}, "Projects"),
    !page.results.length ? h("p", { class: "muted" }, "No projects yet.") : null,
    h("table", {}, h("thead", {}, h("tr", {}, ["Project", "Description", "Data collection", "Created"].map((t) => h("th", {}, t)))),
      h("tbody", {}, page.results.map((p) => h("tr", { class: "project" },
        h("td", {}, h("a", { href: `#/projects/${p.id}` }, p.title)), h("td", {}, p.description || "—"),
        h("td", {}, p.data_collection ?? "—"), h("td", {}, fmtTime(p.created_at)))))));
}

export async function projectView(view, [id], search) {
  const pageNo = Number(search.get("page") || 1);
  const [project, tasks, datasets] = await Promise.all([
    getJSON(`/projects/${id}/`),
    getJSON(`/tasks/${query({ project: id, page_size: TASKS_PAGE, page: pageNo })}`),
    listing("ground_truth_datasets", { project: id }),
  ]);
  const versions = await Promise.all(datasets.results.map((d) => listing("ground_truth_dataset_versions", { dataset: d.id })));
  const grid = h("div", { class: "tasks" });
  const classes = Object.entries(project.configuration || {})
    .map(([tool, list]) => `${tool}: ${(Array.isArray(list) ? list : []).map((c) => (c && c.name) || c).join(", ")}`);
  clear(view,
    h("p", {}, h("a", { href: "#/projects" }, "← Projects")),
    h("h1", {}, project.title),
    project.description ? h("p", {}, project.description) : null,
    classes.length ? h("p", { class: "muted" }, "Labels — ", classes.join("; ")) : null,
    h("section", { class: "card" }, h("h2", {}, `Tasks (${tasks.count})`), grid,
      h("div", { class: "pager" },
        pageNo > 1 ? h("a", { href: `#/projects/${id}?page=${pageNo - 1}` }, "← Previous") : null, " ",
        tasks.next ? h("a", { href: `#/projects/${id}?page=${pageNo + 1}` }, "Next →") : null)),
    h("section", { class: "card" }, h("h2", {}, "Ground-truth datasets"),
      !datasets.results.length ? h("p", { class: "muted" }, "None.") : null,
      datasets.results.map((d, i) => h("div", { class: "dataset" }, h("h3", {}, d.name), d.description ? h("p", {}, d.description) : null,
        h("ul", {}, versions[i].results.map((v) => h("li", { class: "gt-version" },
          `version ${v.version}`, v.is_frozen ? " (frozen)" : " (open)", ` · ${fmtTime(v.created_at)}`)))))));
  for (const task of tasks.results) {
    const card = h("a", { class: "task", href: `#/tasks/${task.id}`, dataset: { taskId: task.id } },
      h("div", { class: "thumb muted" }, "…"), h("span", {}, `#${task.id} · ${task.status}`));
    grid.append(card);
    imageOf(task).then((src) => {
      card.firstChild.replaceWith(src ? annotatedImage(src, task.data, []) : h("div", { class: "thumb muted" }, "no image"));
    }).catch(() => {});
  }
  if (!tasks.results.length) grid.append(h("p", { class: "muted" }, "No tasks."));
}

export async function taskView(view, [id]) {
  const task = await getJSON(`/tasks/${id}/`);
  const src = await imageOf(task).catch(() => null);
  const list = boxes(task.data);
  clear(view,
    h("p", {}, h("a", { href: `#/projects/${task.project}` }, "← Project")),
    h("h1", {}, `Task #${task.id} `, h("span", { class: "muted" }, task.status)),
    src ? annotatedImage(src, task.data, task.predictions, true) : h("p", { class: "muted" }, "No image."),
    h("section", { class: "card" }, h("h2", {}, `Boxes (${list.length})`),
      h("ul", {}, list.map((b) => h("li", { class: "box-item" }, `${b.classification ?? "?"} at [${b.data.map(fmtNumber).join(", ")}]`)))),
    (task.predictions || []).length ? h("section", { class: "card" }, h("h2", {}, "Predictions"),
      h("ul", {}, task.predictions.map((p) => h("li", {}, `${p.source}: ${boxes(p.data).length} box(es)`,
        p.score !== undefined && p.score !== null ? `, score ${fmtNumber(p.score)}` : "")))) : null,
    h("section", { class: "card" }, h("h2", {}, "Annotation (DM v2)"), h("pre", { class: "json" }, JSON.stringify(task.data, null, 2))));
}

export async function modelsView(view) {
  const page = await listing("models");
  clear(view, h("h1", {}, "Models"),
    !page.results.length ? h("p", { class: "muted" }, "No models registered yet.") : null,
    h("table", {}, h("thead", {}, h("tr", {}, ["Model", "Plugin", "Run", "Metrics", "Created"].map((t) => h("th", {}, t)))),
      h("tbody", {}, page.results.map((m) => h("tr", { class: "model" },
        h("td", {}, m.name), h("td", {}, m.plugin || "—"),
        h("td", {}, m.run ? h("a", { href: `#/runs/${encodeURIComponent(m.run)}`, class: "mono" }, m.run) : "—"),
        h("td", {}, h("dl", { class: "metrics" }, Object.entries(m.metrics || {}).map(([k, v]) =>
          [h("dt", {}, k), h("dd", {}, typeof v === "object" ? JSON.stringify(v) : fmtNumber(v))]))),
        h("td", {}, fmtTime(m.created_at)))))));
}
