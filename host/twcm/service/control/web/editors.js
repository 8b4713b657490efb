// The list editors of a site: the weekly schedule (windows: days, start, end, amps) and the
// consumption offsets (name, value, W or A). Each row can be removed, rows added, and Save
// sends the whole list (the API replaces it): {"windows": [...]}, {"consumption_offsets": [...]}.

import {change} from "./api.js";
import {act, isDirty, watchDirty} from "./act.js";
import {el, field, numberOrAsTyped, setting} from "./format.js";

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
let serial = 0;  // unique ids for the rows' inputs

function labelled(text, input) {
  const id = `in-${++serial}`;
  input.id = id;
  const label = el("label", text);
  label.htmlFor = id;
  const box = el("div", null, "labelled");
  box.append(label, input);
  return box;
}

function input(type, name, value, attrs = {}) {
  const i = el("input");
  i.type = type;
  i.name = name;
  i.value = value ?? "";
  for (const [k, v] of Object.entries(attrs)) i.setAttribute(k, v);
  return i;
}

function removeButton(row, what) {
  const b = el("button", "Remove", "remove small");
  b.type = "button";
  b.setAttribute("aria-label", `Remove ${what}`);
  b.addEventListener("click", () => {
    const form = row.closest("form");
    row.remove();
    form.dataset.dirty = "1";
    renumber(form);
  });
  return b;
}

// Rows are keyed "windows.0", "windows.1"...: an API message naming one lands beside it.
function renumber(form) {
  const list = form.dataset.list;
  form.querySelectorAll(".list-row").forEach((row, i) => {
    row.dataset.key = `${list}.${i}`;
    row.querySelector(".row-title").textContent = `${form.dataset.item} ${i + 1}`;
  });
  form.querySelector(".empty").hidden = form.querySelectorAll(".list-row").length > 0;
}

function windowRow(w) {
  const row = el("li", null, "list-row window");
  const days = el("fieldset", null, "days");
  days.append(el("legend", "Days"));
  for (const d of DAYS) {
    const label = el("label", null, "day");
    const box = input("checkbox", "day", d);
    box.checked = w.days.includes(d);
    label.append(box, d);
    days.append(label);
  }
  row.append(el("h5", null, "row-title"), days,
             labelled("Start", input("time", "start", w.start, {required: ""})),
             labelled("End", input("time", "end", w.end, {required: ""})),
             labelled("Amps", input("number", "amps", w.amps, {min: "0", step: "1",
                                                                inputmode: "numeric"})),
             removeButton(row, "this window"), el("p", null, "error"));
  return row;
}

function offsetRow(o) {
  const row = el("li", null, "list-row offset");
  const unit = el("select");
  unit.name = "unit";
  for (const u of ["W", "A"]) unit.append(new Option(u, u, false, o.unit === u));
  row.append(el("h5", null, "row-title"),
             labelled("Name", input("text", "name", o.name)),
             labelled("Value", input("text", "value", o.value, {inputmode: "decimal"})),
             labelled("Unit", unit), removeButton(row, "this offset"), el("p", null, "error"));
  return row;
}

const KINDS = {
  windows: {row: windowRow, save: change.schedule, blank: () => ({days: DAYS.slice(0, 5), start: "22:00",
                                           end: "06:00", amps: 16}),
            read: (row) => ({
              days: [...row.querySelectorAll('input[name="day"]:checked')].map((b) => b.value),
              start: row.querySelector('[name="start"]').value,
              end: row.querySelector('[name="end"]').value,
              amps: numberOrAsTyped(row.querySelector('[name="amps"]').value),
            })},
  consumption_offsets: {row: offsetRow, save: change.offsets, blank: () => ({name: "", value: 0, unit: "W"}),
                        read: (row) => ({
                          name: row.querySelector('[name="name"]').value,
                          value: numberOrAsTyped(row.querySelector('[name="value"]').value),
                          unit: row.querySelector('[name="unit"]').value,
                        })},
};

function fill(form, items) {
  const kind = KINDS[form.dataset.list];
  form.querySelector(".rows").replaceChildren(...items.map(kind.row));
  renumber(form);
}

export function setupEditors(section, name) {
  for (const form of section.querySelectorAll("form[data-list]")) {
    const kind = KINDS[form.dataset.list];
    watchDirty(form);
    form.querySelector("button.add").addEventListener("click", () => {
      form.querySelector(".rows").append(kind.row(kind.blank()));
      form.dataset.dirty = "1";
      renumber(form);
    });
    form.querySelector("button.revert").addEventListener("click", () => {
      form.dataset.dirty = "";
      fill(form, JSON.parse(form.dataset.value || "[]"));
    });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const items = [...form.querySelectorAll(".list-row")].map(kind.read);
      act(form, () => kind.save(name, items));
    });
  }
}

export function renderEditors(section, s) {
  for (const form of section.querySelectorAll("form[data-list]")) {
    const key = form.dataset.list;
    const known = Boolean(s.settings && key in s.settings);
    form.hidden = !known;
    field(form.parentElement, `${key}-missing`).hidden = known;
    const entry = known ? s.settings[key] : {value: [], from: "default"};
    form.querySelector(".list-from").textContent = `from ${entry.from}`;
    if (isDirty(form)) continue;
    const value = JSON.stringify(setting(s, key, []));
    if (value === form.dataset.value) continue;
    form.dataset.value = value;
    fill(form, entry.value);
  }
}
