// The web page of `twcm run`: polls /api/status every 2 s and shows each site; starts and
// ends Charge Now through the REST API (docs/api.md). Plain JS, no build step, no CDN.
"use strict";

const POLL_MS = 2000;
const sites = new Map(); // site name -> its <section>

async function call(method, url, body) {
  const init = {method, cache: "no-store", headers: {}};
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const r = await fetch(url, init);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  return {ok: r.ok, status: r.status, data};
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function field(section, name) { return section.querySelector(`[data-field="${name}"]`); }

function watts(w) {
  const a = Math.abs(w);
  return a >= 1000 ? `${(a / 1000).toFixed(2)} kW` : `${Math.round(a)} W`;
}

function amps(a) { return a === null || a === undefined ? "–" : `${a} A`; }

function when(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const sameDay = d.toDateString() === new Date().toDateString();
  const opts = sameDay ? {hour: "2-digit", minute: "2-digit"}
                       : {weekday: "short", hour: "2-digit", minute: "2-digit"};
  return d.toLocaleString([], opts);
}

function duration(s) {
  if (s === null || s === undefined) return "–";
  s = Math.round(s);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

// Fill a <dl> with [term, value, class?] rows.
function pairs(dl, rows) {
  dl.replaceChildren();
  for (const [term, value, cls] of rows) {
    const div = el("div");
    div.append(el("dt", term), el("dd", value, cls));
    dl.append(div);
  }
}

function siteSection(name) {
  let section = sites.get(name);
  if (section) return section;
  section = document.getElementById("site-template").content.firstElementChild.cloneNode(true);
  section.dataset.site = name;
  section.setAttribute("aria-labelledby", `site-${name}`);
  const h = section.querySelector(".site-name");
  h.textContent = `Site ${name}`;
  h.id = `site-${name}`;
  // Unique ids for the inputs (labels wrap them, ids help tests and assistive tech).
  for (const input of section.querySelectorAll("input")) input.id = `${name}-${input.name}`;
  const form = section.querySelector("form");
  form.setAttribute("aria-label", `Charge Now at site ${name}`);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); startChargeNow(name, section); });
  section.querySelector("button.end").addEventListener("click", () => endChargeNow(name, section));
  document.getElementById("sites").append(section);
  sites.set(name, section);
  return section;
}

// A whole number as a number; anything else as typed, for the API to name the problem.
function wholeOrAsTyped(value) {
  const v = value.trim();
  if (/^-?\d+$/.test(v)) return Number(v);
  return v === "" ? null : v;
}

async function changeChargeNow(section, method, url, body) {
  const error = field(section, "form-error");
  const buttons = section.querySelectorAll("form button");
  buttons.forEach((b) => { b.disabled = true; });
  error.textContent = "";
  try {
    const r = await call(method, url, body);
    if (r.ok) {
      render(r.data);
    } else {
      error.textContent = (r.data && r.data.error) || `the API answered ${r.status}`;
    }
  } catch (e) {
    error.textContent = `cannot reach twcm: ${e.message}`;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    const running = section.dataset.chargeNow === "on";
    section.querySelector("button.end").disabled = !running;
  }
}

function startChargeNow(name, section) {
  const form = section.querySelector("form");
  return changeChargeNow(section, "POST", `/api/sites/${encodeURIComponent(name)}/charge_now`, {
    amps: wholeOrAsTyped(form.elements.amps.value),
    minutes: wholeOrAsTyped(form.elements.minutes.value),
  });
}

function endChargeNow(name, section) {
  return changeChargeNow(section, "DELETE",
                         `/api/sites/${encodeURIComponent(name)}/charge_now`);
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
  const claims = field(section, "claims");
  claims.replaceChildren(...(d ? d.claims : []).map(
    (c) => el("li", `${c.source}: ${amps(c.amps)} — ${c.reason}`)));
}

function renderChargeNow(section, s) {
  const c = s.charge_now;
  section.dataset.chargeNow = c ? "on" : "off";
  const p = field(section, "charge-now");
  p.textContent = c ? `On: ${amps(c.amps)} until ${when(c.until)}` : "Off";
  p.className = c ? "on" : "muted";
  const end = section.querySelector("button.end");
  if (!section.querySelector("button.start").disabled) end.disabled = !c;
}

function renderReadings(section, s) {
  const r = s.readings;
  const rows = [];
  if (!r) {
    rows.push(["Readings", "none yet", "muted"]);
  } else {
    if (r.generation_w !== undefined) rows.push(["Generation", watts(r.generation_w)]);
    if (r.consumption_w !== undefined) rows.push(["Consumption", watts(r.consumption_w)]);
    if (r.grid_import_w !== undefined) {
      rows.push(["Grid", r.grid_import_w < 0 ? `exporting ${watts(r.grid_import_w)}`
                                             : `importing ${watts(r.grid_import_w)}`]);
    }
    if (r.battery_w !== undefined) {
      rows.push(["Battery", r.battery_w < 0 ? `charging ${watts(r.battery_w)}`
                                            : `discharging ${watts(r.battery_w)}`]);
    }
    if (r.battery_soc !== undefined) {
      rows.push(["Battery charge", `${Math.round(r.battery_soc)} %`]);
    }
    if (r.grid_connected === false) rows.push(["Grid", "off grid", "warn"]);
    if (r.at !== undefined) rows.push(["Read", `${duration(Math.max(0, s.time - r.at))} ago`]);
  }
  pairs(field(section, "readings"), rows);
  field(section, "sources").replaceChildren(...s.sources.map((f) => {
    const li = el("li");
    li.append(el("span", `${f.name} (${f.type})`, "name"), " ");
    const state = f.ok && !f.stale ? "ok" : "stale";
    li.append(el("span", state, `badge ${state === "ok" ? "good" : "bad"}`));
    li.dataset.state = state;
    const why = [];
    if (f.stale) why.push(f.stale);
    if (f.error && f.error !== f.stale) why.push(f.error);
    if (f.age_s !== null && f.age_s !== undefined) why.push(`read ${duration(f.age_s)} ago`);
    if (why.length) li.append(el("span", why.join("; "), "muted detail"));
    return li;
  }));
}

function bytes(n) {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`;
}

function times(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

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
  const note = field(section, "device-note");
  note.textContent = dev.health === "unknown"
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
  const healthList = field(section, "device-health");
  healthList.hidden = !st;
  pairs(healthList, st ? healthRows(st) : []);
}

function renderTwcs(section, s) {
  const slaves = (s.device.state && s.device.state.slaves) || [];
  field(section, "no-twcs").textContent = slaves.length ? ""
    : "No Wall Connector has joined yet.";
  field(section, "twcs").replaceChildren(...slaves.map((t) => {
    const li = el("li", null, "card twc");
    li.dataset.twc = t.id;
    li.append(el("h4", `TWC ${t.id}`));
    const rows = [
      ["State", t.state, t.state === "error" ? "warn" : ""],
      ["Offer", amps(t.offered_amps)],
      ["Draw", `${Number(t.actual_amps).toFixed(1)} A`],
      ["Car", t.vin || "–"],
      ["Link", t.link, t.link === "linked" ? "" : "warn"],
    ];
    if (t.max_amps !== null) rows.push(["Rating", amps(t.max_amps)]);
    if (t.cap_amps !== null) rows.push(["Capped at", amps(t.cap_amps)]);
    const volts = (t.volts || []).filter((v) => v);
    if (volts.length) rows.push(["Volts", volts.join(" / ")]);
    const dl = el("dl", null, "pairs");
    pairs(dl, rows);
    li.append(dl);
    return li;
  }));
}

function render(s) {
  const section = siteSection(s.site);
  renderLease(section, s);
  renderChargeNow(section, s);
  renderReadings(section, s);
  renderDevice(section, s);
  renderTwcs(section, s);
}

async function poll() {
  const offline = document.getElementById("offline");
  try {
    const r = await call("GET", "/api/status");
    if (!r.ok || !r.data) throw new Error(`the API answered ${r.status}`);
    const names = new Set(r.data.sites.map((s) => s.site));
    for (const [name, section] of sites) {
      if (!names.has(name)) { section.remove(); sites.delete(name); }
    }
    r.data.sites.forEach(render);
    offline.hidden = true;
    document.getElementById("sites").setAttribute("aria-busy", "false");
    document.getElementById("updated").textContent =
      `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    offline.textContent = `Cannot reach twcm (${e.message}); retrying…`;
    offline.hidden = false;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

poll();
