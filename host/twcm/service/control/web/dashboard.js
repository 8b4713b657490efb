// The live part of a site's section: power now, the lease and the claims behind it, the
// sources and the device's health. Redrawn from each status (docs/api.md "Status").

import {amps, bytes, duration, el, field, pairs, setting, times, twcWatts, watts} from "./format.js";

/** Generation, house load, surplus and charging now, in W (null: unknown). */
export function power(s) {
  const r = s.readings || {};
  const slaves = (s.device.state && s.device.state.slaves) || [];
  const vp = setting(s, "volts", 230) * setting(s, "phases", 1);
  const charging = slaves.reduce((sum, t) => sum + twcWatts(t, setting(s, "volts", 230),
                                                         setting(s, "phases", 1)), 0);
  const gen = r.generation_w ?? null;
  let house = r.consumption_w ?? null;
  // A consumption meter that also measures the chargers: the house is the rest.
  if (house !== null && setting(s, "green.subtract_charger_load", false)) {
    house = Math.max(0, house - charging);
  }
  let surplus = null;
  if (gen !== null && house !== null) surplus = gen - house;
  else if (r.grid_import_w !== undefined) surplus = -r.grid_import_w + charging;
  return {gen, house, surplus, charging, voltsPhases: vp};
}

function renderPower(section, s) {
  const p = power(s);
  const tiles = [
    ["generation", "Generation", watts(p.gen)],
    ["house", "House load", watts(p.house)],
    ["surplus", "Surplus", watts(p.surplus)],
    ["charging", "Charging", watts(p.charging)],
  ];
  const box = field(section, "power");
  box.replaceChildren(...tiles.map(([key, label, value]) => {
    const d = el("div", null, `tile tile-${key}`);
    d.dataset.power = key;
    d.append(el("span", label, "label"), el("span", value, "value"));
    return d;
  }));
  const r = s.readings;
  field(section, "read-at").textContent = !r ? "No readings yet."
    : r.at !== undefined ? `Read ${duration(Math.max(0, s.time - r.at))} ago` : "";
}

function renderLease(section, s) {
  const d = s.decision;
  field(section, "lease").textContent = s.lease_amps === null ? "none" : amps(s.lease_amps);
  field(section, "reason").textContent = s.lease_amps === null
    ? "No lease is sent: the device follows its own schedule or fallback."
    : (d ? d.reason : "");
  const why = [];
  if (d && d.set_by) why.push(`set by ${d.set_by}`);
  if (d && d.capped_by) why.push(`capped by ${d.capped_by}`);
  field(section, "why").textContent = why.join(" · ");
  field(section, "claims").replaceChildren(...(d ? d.claims : []).map((c) => {
    const li = el("li");
    li.append(el("strong", c.source), ` ${amps(c.amps)} — ${c.reason}`);
    if (d.set_by === c.source) li.className = "in-force";
    return li;
  }));
}

function renderSources(section, s) {
  field(section, "sources").replaceChildren(...s.sources.map((f) => {
    const li = el("li");
    const state = f.ok && !f.stale ? "ok" : "stale";
    li.dataset.state = state;
    li.append(el("span", `${f.name} (${f.type})`, "name"), " ",
              el("span", state, `badge ${state === "ok" ? "good" : "bad"}`));
    const why = [];
    if (f.stale) why.push(f.stale);
    if (f.error && f.error !== f.stale) why.push(f.error);
    if (f.age_s !== null && f.age_s !== undefined) why.push(`read ${duration(f.age_s)} ago`);
    if (why.length) li.append(el("span", why.join("; "), "muted detail"));
    return li;
  }));
}

// The device's own health (docs/mqtt.md: network, ntp, mqtt, events_dropped, free_heap,
// loop_max_ms). A last error is the latest since the device started: it may be over.
function healthRows(st) {
  const rows = [];
  const net = st.network;
  if (net) {
    const again = net.connects > 1 ? `, ${times(net.connects - 1, "reconnect")}` : "";
    rows.push(["Network", (net.up ? "up" : "down") + again, net.up ? "good" : "bad"]);
    if (net.last_error) rows.push(["Last network error", net.last_error, "warn"]);
  }
  if (st.ntp) {
    rows.push(["NTP", st.ntp.synced ? "synced" : "not synced", st.ntp.synced ? "good" : "warn"]);
    if (st.ntp.last_error) rows.push(["Last NTP error", st.ntp.last_error, "warn"]);
  }
  if (st.mqtt) {
    const again = Math.max(0, st.mqtt.connects - 1);
    rows.push(["MQTT reconnects", again, again ? "warn" : ""]);
    if (st.mqtt.last_error) rows.push(["Last MQTT error", st.mqtt.last_error, "warn"]);
  }
  if (st.events_dropped !== null) {
    rows.push(["Dropped events", st.events_dropped, st.events_dropped ? "warn" : ""]);
  }
  if (!net && !st.ntp && !st.mqtt) rows.push(["Health", "not reported by this firmware", "muted"]);
  rows.push(["Free heap", st.free_heap === null ? "not measured" : bytes(st.free_heap)]);
  rows.push(["Bus loop max", st.loop_max_ms === null ? "not measured" : `${st.loop_max_ms} ms`,
             st.loop_max_ms > 1000 ? "warn" : ""]);
  return rows;
}

function renderDevice(section, s) {
  const dev = s.device;
  const st = dev.state;
  const health = {online: "good", offline: "bad", silent: "bad"}[dev.health] || "warn";
  const rows = [["Health", dev.health, `badge ${health}`]];
  field(section, "device-note").textContent = dev.health === "unknown"
    ? `No device heard yet: is it powered, and connected to the broker twcm uses, ` +
      `with site "${s.site}" in its config?`
    : "";
  if (!st) {
    rows.push(["State", "none yet", "muted"]);
  } else {
    rows.push(["Mode", st.mode], ["Limit set by", st.source], ["Limit", amps(st.limit_amps)]);
    if (st.lease_left_s !== null) rows.push(["Lease left", duration(st.lease_left_s)]);
    rows.push(["Wiring", `${amps(st.wiring_max_amps_all)} all, ` +
                         `${amps(st.wiring_max_amps_per_twc)} each`]);
    if (st.schedule_windows !== null) rows.push(["Schedule windows", st.schedule_windows]);
    if (st.time_valid === false) rows.push(["Clock", "not set", "warn"]);
    if (st.version !== null) rows.push(["Firmware", st.version]);
    if (st.uptime_s !== null) rows.push(["Up", duration(st.uptime_s)]);
  }
  pairs(field(section, "device"), rows);
  const list = field(section, "device-health");
  list.hidden = !st;
  pairs(list, st ? healthRows(st) : []);
  const badge = field(section, "health-badge");
  badge.textContent = `device ${dev.health}`;
  badge.className = `badge ${health}`;
}

/** Redraw the live parts of a site's section from its status. */
export function renderDashboard(section, s) {
  renderPower(section, s);
  renderLease(section, s);
  renderSources(section, s);
  renderDevice(section, s);
}
