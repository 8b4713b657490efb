// Small DOM and formatting helpers shared by the page's modules.

export function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

export function field(root, name) { return root.querySelector(`[data-field="${name}"]`); }

export function watts(w) {
  if (w === null || w === undefined || Number.isNaN(w)) return "–";
  const a = Math.abs(w);
  const sign = w < 0 ? "−" : "";
  return a >= 1000 ? `${sign}${(a / 1000).toFixed(2)} kW` : `${sign}${Math.round(a)} W`;
}

export function amps(a) { return a === null || a === undefined ? "–" : `${a} A`; }

export function when(iso) {
  const d = typeof iso === "number" ? new Date(iso * 1000) : new Date(iso);
  if (isNaN(d)) return String(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  const opts = sameDay ? {hour: "2-digit", minute: "2-digit"}
                       : {weekday: "short", day: "numeric", month: "short",
                          hour: "2-digit", minute: "2-digit"};
  return d.toLocaleString([], opts);
}

export function hhmm(date) {
  return `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
}

export function duration(s) {
  if (s === null || s === undefined) return "–";
  s = Math.round(s);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

export function bytes(n) {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`;
}

export function times(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

// Fill a <dl> with [term, value, class?] rows.
export function pairs(dl, rows) {
  dl.replaceChildren();
  for (const [term, value, cls] of rows) {
    const div = el("div");
    div.append(el("dt", term), el("dd", value, cls));
    dl.append(div);
  }
}

// A number as typed (for the API to check), null when empty; anything else as typed so
// that the API's message names the problem.
export function numberOrAsTyped(value) {
  const v = String(value).trim();
  if (v === "") return null;
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}

// The power of a Wall Connector's draw: its amps times the volts it reports on each phase
// (or the site's volts x phases when it reports none).
export function twcWatts(t, volts, phases) {
  const live = (t.volts || []).filter((v) => v);
  const v = live.length ? live.reduce((a, b) => a + b, 0) : volts * phases;
  return Number(t.actual_amps || 0) * v;
}

// The value in force of a policy key from the status' settings, or `fallback`.
export function setting(s, key, fallback) {
  const entry = s.settings && s.settings[key];
  return entry === undefined ? fallback : entry.value;
}
