// Building the page safely: every value goes into the DOM as text, never as HTML.
// h("td", {class: "x"}, "text", child) makes an element; strings and numbers become text nodes.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function fmtTime(seconds) {
  if (!seconds) return "—";
  const d = new Date(seconds * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds) || seconds < 0) return "—";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const s = Math.round(seconds);
  const hours = Math.floor(s / 3600), minutes = Math.floor((s % 3600) / 60), rest = s % 60;
  return hours ? `${hours}h ${minutes}m` : `${minutes}m ${rest}s`;
}

export function runDuration(run, now = Date.now() / 1000) {
  if (!run.started_at) return null;
  return (run.finished_at || now) - run.started_at;
}

export function fmtBytes(n) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function fmtNumber(value) {
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1000 || Math.abs(value) < 0.001 ? value.toExponential(3) : value.toFixed(4);
}

export function statusBadge(status) {
  return h("span", { class: `status status-${String(status).toLowerCase()}` }, status);
}

export function progressBar(entry, label) {
  const percent = Math.max(0, Math.min(100, entry.percent ?? 0));
  return h("div", { class: "bar", role: "progressbar", "aria-valuenow": percent, "aria-valuemin": 0,
                   "aria-valuemax": 100, "aria-label": label || "progress" },
    h("div", { class: "bar-fill", style: null, dataset: { percent: String(percent) } }),
    h("span", { class: "bar-text" }, `${percent.toFixed(percent >= 100 || percent === 0 ? 0 : 1)}%`));
}

// Widths are set through the CSSOM (allowed by the page's policy, unlike inline style attributes).
export function setBarWidths(root) {
  for (const fill of root.querySelectorAll(".bar-fill")) fill.style.width = `${fill.dataset.percent}%`;
}

export const ACTIVE = new Set(["PENDING", "RUNNING"]);
