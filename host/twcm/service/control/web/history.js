// The slower parts of a site's section, fetched once a minute: today's chart (the history
// endpoint) and the charge sessions with their kWh per car.

import {PATHS, call} from "./api.js";
import {chart, legend} from "./chart.js";
import {duration, el, field, setting, when} from "./format.js";

// The history's samples have no charging power (the store records the site's readings and
// limit, not the cars' draw): the page keeps what it saw of it while open, a point every
// 30 s, and draws that.
const LIVE_EVERY_S = 30;
const live = new Map();  // site -> [{at, charging_w}]

export function seen(s, chargingW) {
  const points = live.get(s.site) || [];
  if (!points.length || s.time - points.at(-1).at >= LIVE_EVERY_S) {
    points.push({at: s.time, charging_w: chargingW});
    if (points.length > 24 * 3600 / LIVE_EVERY_S) points.shift();
    live.set(s.site, points);
  }
}

export async function renderHistory(section, s) {
  const box = field(section, "chart");
  const now = Date.now() / 1000;
  const day = new Date();
  const start = new Date(day.getFullYear(), day.getMonth(), day.getDate()).getTime() / 1000;
  const end = start + 24 * 3600;
  const samples = [];
  try {
    // A long day may come in pages: the next one from the last sample's time.
    for (let from = start, page = 0; page < 20; page++) {
      const data = await call("GET", PATHS.history(s.site, from, now));
      samples.push(...data.samples);
      if (!data.truncated || !data.samples.length) break;
      from = data.samples.at(-1).at + 0.001;
    }
  } catch (e) {
    field(section, "chart-note").textContent = `No history: ${e.message}`;
    return;
  }
  const vp = setting(s, "volts", 230) * setting(s, "phases", 1);
  if (!samples.some((x) => x.charging_w != null || x.charging_amps != null)) {
    samples.push(...(live.get(s.site) || []));
    samples.sort((a, b) => a.at - b.at);
  }
  box.replaceChildren(chart(samples, start, end, vp,
                            setting(s, "green.subtract_charger_load", false), box.clientWidth),
                      legend());
  field(section, "chart-note").textContent = samples.length ? ""
    : "Nothing recorded today yet.";
}

function sessionRows(list) {
  const table = el("table", null, "sessions-table");
  const head = el("tr");
  for (const h of ["Start", "Length", "TWC", "kWh"]) head.append(el("th", h));
  table.append(head);
  for (const x of list.slice().reverse()) {
    const tr = el("tr");
    const length = x.end ? duration(x.end - x.start) : "charging";
    tr.append(el("td", when(x.start)), el("td", length), el("td", x.twc),
              el("td", Number(x.kwh || 0).toFixed(2), "num"));
    table.append(tr);
  }
  return table;
}

export async function renderSessions(section, s) {
  const box = field(section, "sessions");
  let data;
  try {
    data = await call("GET", PATHS.sessions);
  } catch (e) {
    field(section, "sessions-note").textContent = `No sessions: ${e.message}`;
    return;
  }
  const all = (Array.isArray(data) ? data : data.sessions || [])
    .filter((x) => x.site === undefined || x.site === s.site);
  const byVin = new Map();
  for (const x of all) {
    const vin = x.vin || "unknown car";
    if (!byVin.has(vin)) byVin.set(vin, []);
    byVin.get(vin).push(x);
  }
  field(section, "sessions-note").textContent = all.length ? "" : "No charge session yet.";
  box.replaceChildren(...[...byVin].map(([vin, list]) => {
    const kwh = list.reduce((a, x) => a + Number(x.kwh || 0), 0);
    const d = el("details", null, "vin");
    d.dataset.vin = vin;
    const summary = el("summary");
    summary.append(el("span", vin, "vin-name"),
                   el("span", `${kwh.toFixed(2)} kWh in ${list.length} session` +
                              (list.length === 1 ? "" : "s"), "vin-kwh"));
    d.append(summary, sessionRows(list));
    return d;
  }));
}
