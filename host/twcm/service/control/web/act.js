// How every control of the page sends a change: its fieldset disabled while the request
// runs, the API's refusal shown next to it (and next to the input its message names),
// the page refreshed when it is done.
//
// A form the user has typed into is "dirty": the 2 s refresh leaves its inputs alone until
// it is saved or reverted, so the poll never overwrites what is being typed.

import {ApiError, readOnly} from "./api.js";

let refresh = async () => {};

/** The function that redraws the page from a fresh status (app.js gives it). */
export function whenChanged(fn) { refresh = fn; }

export function watchDirty(form) {
  form.addEventListener("input", () => { form.dataset.dirty = "1"; });
  form.addEventListener("change", () => { form.dataset.dirty = "1"; });
}

export function isDirty(form) { return form.dataset.dirty === "1"; }

function clearErrors(form) {
  for (const e of form.querySelectorAll(".error")) e.textContent = "";
  for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
}

function names(line, key) {
  const k = key.replace(/[.[\]]/g, "\\$&");
  return new RegExp(`(^|[\\s.:"'])${k}\\b`).test(line);
}

// The API's error goes under the form; each of its problems (one line per bad field,
// naming it) also beside the input of that field, marked invalid. A row's data-key is the
// field ("windows.0", "green.start_delay_s"); data-alias a shorter name the API may use.
function showError(form, text, problems) {
  form.querySelector(".error.form-error").textContent = text;
  for (const row of form.querySelectorAll("[data-key]")) {
    const lines = (problems.length ? problems : [text]).filter(
      (line) => names(line, row.dataset.key) || (row.dataset.alias && names(line, row.dataset.alias)));
    if (!lines.length) continue;
    const input = row.querySelector("input, select");
    if (input) input.setAttribute("aria-invalid", "true");
    const slot = row.querySelector(".error");
    if (slot) slot.textContent = lines.join("; ");
  }
}

/** Run `request` for `form`; true when the API took it. */
export async function act(form, request) {
  const fieldset = form.querySelector("fieldset");
  clearErrors(form);
  fieldset.disabled = true;
  try {
    await request();
    form.dataset.dirty = "";
    await refresh();
    return true;
  } catch (e) {
    if (e instanceof ApiError) showError(form, e.message, (e.data && e.data.problems) || []);
    else showError(form, `cannot reach twcm: ${e.message}`, []);
    return false;
  } finally {
    fieldset.disabled = readOnly();
  }
}
