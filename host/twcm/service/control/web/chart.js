// Today's chart as inline SVG, drawn here (no chart library, nothing fetched): generation,
// house load and charging in kW, and the site limit (amps at the site's volts) as a step
// line, over the day from 00:00 with HH:MM on the time axis.

import {el, hhmm} from "./format.js";

const NS = "http://www.w3.org/2000/svg";
const LEFT = 54, RIGHT = 20, TOP = 10, BOTTOM = 28;
const GAP_S = 600;  // a longer gap between samples breaks the line
const BUCKET_S = 120;  // samples are averaged over 2 min: a day is at most 720 points

export const SERIES = [
  {key: "generation", label: "Generation", cls: "s-gen"},
  {key: "house", label: "House load", cls: "s-house"},
  {key: "charging", label: "Charging", cls: "s-charge"},
  {key: "limit", label: "Site limit", cls: "s-limit"},
];

function svg(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A sample's values in W (null: unknown). `voltsPhases` turns the limit's amps into W. */
export function point(s, voltsPhases, subtractCharger) {
  const charging = s.charging_w ?? (s.charging_amps != null ? s.charging_amps * voltsPhases : null);
  let house = s.consumption_w ?? null;
  if (house !== null && subtractCharger && charging !== null) house = Math.max(0, house - charging);
  return {
    at: s.at,
    generation: s.generation_w ?? null,
    house,
    charging,
    limit: s.limit_amps == null ? null : s.limit_amps * voltsPhases,
  };
}

function buckets(points) {
  const out = [];
  let cur = null;
  for (const p of points) {
    const b = Math.floor(p.at / BUCKET_S);
    if (!cur || cur.b !== b) {
      cur = {b, at: p.at, n: {}, sum: {}, last: {}};
      out.push(cur);
    }
    for (const {key} of SERIES) {
      if (p[key] === null) continue;
      cur.sum[key] = (cur.sum[key] || 0) + p[key];
      cur.n[key] = (cur.n[key] || 0) + 1;
      cur.last[key] = p[key];
    }
  }
  return out.map((c) => {
    const p = {at: c.at};
    for (const {key} of SERIES) {
      // The limit is a step: its last value, not an average.
      p[key] = c.n[key] ? (key === "limit" ? c.last[key] : c.sum[key] / c.n[key]) : null;
    }
    return p;
  });
}

function niceTop(max) {
  if (max <= 0) return 1000;
  const step = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= max) return m * step;
  return 10 * step;
}

/** The chart of `samples` from `start` to `end` (Unix seconds), as an <svg> drawn for a
 * box `width` px wide (so that its text keeps its size on a phone). */
export function chart(samples, start, end, voltsPhases, subtractCharger, width) {
  const W = Math.max(300, Math.round(width || 720)), H = W < 500 ? 200 : 260;
  const every = W < 500 ? 6 : 3;  // hours between time labels
  const pts = buckets(samples.map((s) => point(s, voltsPhases, subtractCharger))
    .filter((p) => p.at >= start && p.at <= end));
  let max = 0;
  for (const p of pts) for (const {key} of SERIES) if (p[key] > max) max = p[key];
  const top = niceTop(max);
  const x = (t) => LEFT + (t - start) / (end - start) * (W - LEFT - RIGHT);
  const y = (v) => TOP + (1 - v / top) * (H - TOP - BOTTOM);
  const root = svg("svg", {viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
                           "aria-label": "Today: generation, house load, charging, site limit"});
  const axes = svg("g", {class: "axes"});
  for (let i = 0; i <= 4; i++) {
    const v = top * i / 4;
    axes.append(svg("line", {x1: LEFT, x2: W - RIGHT, y1: y(v), y2: y(v), class: "grid"}),
                svg("text", {x: LEFT - 4, y: y(v) + 4, "text-anchor": "end"},
                    `${(v / 1000).toFixed(top < 4000 ? 1 : 0)} kW`));
  }
  const day = new Date(start * 1000);
  for (let h = 0; h <= 24; h += every) {
    const t = new Date(day.getFullYear(), day.getMonth(), day.getDate(), h).getTime() / 1000;
    if (t < start || t > end) continue;
    const label = h === 24 ? "24:00" : hhmm(new Date(t * 1000));
    axes.append(svg("line", {x1: x(t), x2: x(t), y1: TOP, y2: H - BOTTOM, class: "grid"}),
                svg("text", {x: x(t), y: H - BOTTOM + 16, "text-anchor": "middle"}, label));
  }
  root.append(axes);
  for (const {key, cls} of SERIES) {
    const runs = [];
    let run = [], last = null;
    for (const p of pts) {
      if (p[key] === null || (last !== null && p.at - last > GAP_S)) {
        if (run.length) runs.push(run);
        run = [];
      }
      if (p[key] !== null) {
        // The limit holds until the next sample: a step, not a slope.
        if (key === "limit" && run.length) run.push(`${x(p.at).toFixed(1)},${run.at(-1).split(",")[1]}`);
        run.push(`${x(p.at).toFixed(1)},${y(p[key]).toFixed(1)}`);
      }
      last = p.at;
    }
    if (run.length) runs.push(run);
    const g = svg("g", {class: `series ${cls}`, "data-series": key});
    for (const r of runs) {
      if (r.length > 1) {
        g.append(svg("polyline", {points: r.join(" ")}));
      } else {  // a lone reading (the service just started): a dot, not an invisible line
        const [cx, cy] = r[0].split(",");
        g.append(svg("circle", {cx, cy, r: 3}));
      }
    }
    root.append(g);
  }
  return root;
}

/** The chart's legend, as an HTML list. */
export function legend() {
  const ul = el("ul", null, "legend");
  for (const {label, cls} of SERIES) {
    const li = el("li");
    li.append(el("span", null, `swatch ${cls}`), label);
    ul.append(li);
  }
  return ul;
}
