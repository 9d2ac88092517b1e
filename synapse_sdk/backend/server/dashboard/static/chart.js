// A small line chart drawn as SVG (no library): one series of [x, y] points, axes with min/max ticks.

import { fmtNumber, svg } from "./dom.js";

const W = 360, H = 180, PAD = { left: 48, right: 10, top: 12, bottom: 24 };

export function lineChart(points, { label = "" } = {}) {
  const box = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label });
  drawInto(box, points, label);
  return box;
}

export function drawInto(box, points, label) {
  box.replaceChildren();
  box.setAttribute("data-points", String(points.length));
  if (!points.length) {
    box.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "chart-empty" }, "no data yet"));
    return;
  }
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 -= Math.abs(y0) * 0.1 || 1; y1 += Math.abs(y1) * 0.1 || 1; }
  const sx = (x) => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const d = points.map((p, i) => `${i ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("");
  box.append(
    svg("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: "axis" }),
    svg("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom, class: "axis" }),
    svg("text", { x: PAD.left - 4, y: PAD.top + 8, "text-anchor": "end", class: "tick" }, fmtNumber(y1)),
    svg("text", { x: PAD.left - 4, y: H - PAD.bottom, "text-anchor": "end", class: "tick" }, fmtNumber(y0)),
    svg("text", { x: PAD.left, y: H - 6, class: "tick" }, fmtNumber(x0)),
    svg("text", { x: W - PAD.right, y: H - 6, "text-anchor": "end", class: "tick" }, fmtNumber(x1)),
    svg("path", { d, class: "line" }),
  );
  if (points.length <= 60) {
    for (const p of points) box.append(svg("circle", { cx: sx(p[0]), cy: sy(p[1]), r: 2, class: "dot" }));
  }
  const last = points[points.length - 1];
  box.append(svg("title", {}, `${label}: last ${fmtNumber(last[1])} at ${fmtNumber(last[0])}`));
}
