// The simple controls of a site: Charge Now (start, end), the non-scheduled action and its
// amps, and the table of policy settings with where each value comes from.

import {change} from "./api.js";
import {act, isDirty, watchDirty} from "./act.js";
import {amps, el, field, numberOrAsTyped, setting, when} from "./format.js";

// Keys edited elsewhere on the page (the schedule and offsets editors, the action form).
const OWN_FORMS = new Set(["windows", "consumption_offsets", "non_scheduled",
                           "non_scheduled_amps"]);

export function setupControls(section, name) {
  const charge = field(section, "charge-form");
  watchDirty(charge);
  charge.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(charge, () => change.chargeNow(name, numberOrAsTyped(charge.elements.amps.value),
                                       numberOrAsTyped(charge.elements.minutes.value)));
  });
  charge.querySelector("button.end").addEventListener(
    "click", () => act(charge, () => change.cancelChargeNow(name)));

  const action = field(section, "action-form");
  watchDirty(action);
  action.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(action, () => change.nonScheduled(
      name, action.elements.non_scheduled.value,
      numberOrAsTyped(action.elements.non_scheduled_amps.value)));
  });

  const table = field(section, "settings-form");
  watchDirty(table);
  table.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const changes = settingsChanges(table);
    if (!changes) {
      table.querySelector(".form-error").textContent = "Nothing changed.";
      return;
    }
    act(table, () => change.settings(name, changes));
  });
  table.addEventListener("click", (ev) => {
    const button = ev.target.closest("button.reset");
    if (!button) return;
    act(table, () => change.settings(name, fragment(button.dataset.reset, null)));
  });
  table.querySelector("button.revert").addEventListener("click", () => {
    table.dataset.dirty = "";
  });
}

// {"green.start_delay_s": 30} as the API takes it: {"green": {"start_delay_s": 30}}.
function fragment(key, value) {
  const [top, sub] = key.split(".");
  return sub === undefined ? {[top]: value} : {[top]: {[sub]: value}};
}

function settingsChanges(table) {
  let out = null;
  for (const row of table.querySelectorAll("[data-key]")) {
    const input = row.querySelector("input");
    const value = input.type === "checkbox" ? input.checked : numberOrAsTyped(input.value);
    if (JSON.stringify(value) === row.dataset.value) continue;
    const [top, sub] = row.dataset.key.split(".");
    out = out || {};
    if (sub === undefined) out[top] = value;
    else out[top] = {...(out[top] || {}), [sub]: value};
  }
  return out;
}

function renderChargeNow(section, s) {
  const c = s.charge_now;
  const p = field(section, "charge-now");
  p.textContent = c ? `On: ${amps(c.amps)} until ${when(c.until)}` : "Off";
  p.className = c ? "on" : "muted";
  const form = field(section, "charge-form");
  form.querySelector("button.end").hidden = !c;
}

function renderAction(section, s) {
  const form = field(section, "action-form");
  const mode = setting(s, "non_scheduled", "track_green");
  const entry = s.settings && s.settings.non_scheduled;
  field(section, "action-now").textContent =
    {track_green: "Track green energy", fixed: `Charge at ${amps(setting(s, "non_scheduled_amps"))}`,
     do_not_charge: "Do not charge"}[mode] + (entry ? ` (from ${entry.from})` : "");
  if (isDirty(form)) return;
  form.elements.non_scheduled.value = mode;
  form.elements.non_scheduled_amps.value = setting(s, "non_scheduled_amps", 16);
}

function settingRow(key, entry) {
  const row = el("div", null, "setting");
  row.dataset.key = key;
  if (key.includes(".")) row.dataset.alias = key.split(".")[1];
  row.dataset.value = JSON.stringify(entry.value);
  const id = `set-${key.replace(".", "-")}`;
  const label = el("label", key);
  label.htmlFor = id;
  const input = el("input");
  input.id = id;
  input.name = key;
  if (typeof entry.value === "boolean") {
    input.type = "checkbox";
    input.checked = entry.value;
  } else {
    input.type = "text";
    input.inputMode = "decimal";
    input.value = entry.value === null ? "" : String(entry.value);
    if (entry.value === null) input.placeholder = "none";
  }
  const from = el("span", entry.from, `from from-${entry.from}`);
  from.title = {file: "set in the config file", runtime: "changed while twcm runs",
                default: "twcm's default"}[entry.from] || "";
  row.append(label, input, from);
  if (entry.from === "runtime") {
    const reset = el("button", "Reset", "reset small");
    reset.type = "button";
    reset.dataset.reset = key;
    reset.title = "back to the config file's value";
    row.append(reset);
  }
  row.append(el("p", null, "error"));
  return row;
}

function renderSettings(section, s) {
  const form = field(section, "settings-form");
  if (isDirty(form)) return;
  const entries = Object.entries(s.settings || {}).filter(
    ([k, v]) => !OWN_FORMS.has(k) && (v.value === null || typeof v.value !== "object"));
  const green = entries.filter(([k]) => k.startsWith("green."));
  const site = entries.filter(([k]) => !k.startsWith("green."));
  field(section, "green-settings").replaceChildren(...green.map(([k, v]) => settingRow(k, v)));
  field(section, "site-settings").replaceChildren(...site.map(([k, v]) => settingRow(k, v)));
}

export function renderControls(section, s) {
  renderChargeNow(section, s);
  renderAction(section, s);
  renderSettings(section, s);
}
