// A card per Wall Connector: its state, offer, draw, cap, car; its cap control, and start /
// stop where the site allows it. Cards are kept by TWC id (their inputs survive the poll).

import {change} from "./api.js";
import {act, isDirty, watchDirty} from "./act.js";
import {amps, el, field, numberOrAsTyped, pairs, setting, twcWatts, watts} from "./format.js";

function card(section, name, id) {
  const li = document.getElementById("twc-template").content.firstElementChild.cloneNode(true);
  li.dataset.twc = id;
  li.querySelector("h4").textContent = `TWC ${id}`;
  const form = field(li, "cap-form");
  form.setAttribute("aria-label", `Cap of TWC ${id}`);
  const capInput = form.elements.cap;
  capInput.id = `${name}-cap-${id}`;
  form.querySelector("label").htmlFor = capInput.id;
  watchDirty(form);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(form, () => change.cap(name, id, numberOrAsTyped(capInput.value)));
  });
  form.querySelector("button.uncap").addEventListener(
    "click", () => act(form, () => change.cap(name, id, null)));
  for (const b of form.querySelectorAll("button[data-charging]")) {
    b.addEventListener("click", () => act(form, () => change.charging(
      name, id, b.dataset.charging === "start")));
  }
  return li;
}

/** Does the site let the page start and stop charging ([site] twc_start_stop)? */
function startStop(s) {
  return Boolean(s.twc_start_stop && s.twc_start_stop.enabled);
}

// The cap the host wants (status.twc_caps) and the one the device applies (cap_amps):
// they differ for a moment after a change, or while the device has not taken it.
function capText(t, want) {
  const applied = t.cap_amps === null || t.cap_amps === undefined ? null : t.cap_amps;
  if (want === undefined || want === applied) return applied === null ? "none" : amps(applied);
  return `${amps(want)} (device: ${applied === null ? "none yet" : amps(applied)})`;
}

export function renderTwcs(section, name, s) {
  const slaves = (s.device.state && s.device.state.slaves) || [];
  field(section, "no-twcs").textContent = slaves.length ? ""
    : "No Wall Connector has joined yet.";
  const list = field(section, "twcs");
  const cards = new Map([...list.children].map((li) => [li.dataset.twc, li]));
  const volts = setting(s, "volts", 230), phases = setting(s, "phases", 1);
  const keep = [];
  for (const t of slaves) {
    const li = cards.get(t.id) || card(section, name, t.id);
    const rows = [
      ["State", t.state, t.state === "error" ? "warn" : ""],
      ["Offer", amps(t.offered_amps)],
      ["Draw", `${Number(t.actual_amps).toFixed(1)} A · ${watts(twcWatts(t, volts, phases))}`],
      ["Cap", capText(t, ((s.twc_caps || {})[t.id] || {}).amps)],
      ["Car", t.vin || "–"],
      ["Link", t.link, t.link === "linked" ? "" : "warn"],
    ];
    if (t.wanting !== null && t.wanting !== undefined) {
      rows.push(["Wants current", t.wanting ? "yes" : "no"]);
    }
    if (t.max_amps !== null) rows.push(["Rating", amps(t.max_amps)]);
    const live = (t.volts || []).filter((v) => v);
    if (live.length) rows.push(["Volts", live.join(" / ")]);
    if (t.lifetime_kwh !== null) rows.push(["Lifetime", `${t.lifetime_kwh} kWh`]);
    const word = s.twc_start_stop && s.twc_start_stop.last && s.twc_start_stop.last[t.id];
    if (word) rows.push(["Start/stop", word, word.startsWith("refused") ? "warn" : ""]);
    pairs(field(li, "twc-rows"), rows);
    const form = field(li, "cap-form");
    form.querySelector(".start-stop").hidden = !startStop(s);
    if (!isDirty(form)) form.elements.cap.value = ((s.twc_caps || {})[t.id] || {}).amps ?? "";
    keep.push(li);
  }
  list.replaceChildren(...keep);
}
