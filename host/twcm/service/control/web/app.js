// The web app of `twcm run` (docs/api.md "Web page"): log in with a token, then poll
// /api/status every 2 s and show each site; today's chart and the sessions once a minute.
// Plain ES modules, no build step, nothing loaded from elsewhere.

import {PATHS, call, forget, login, readOnly, token, whenUnauthorized} from "./api.js";
import {whenChanged} from "./act.js";
import {renderControls, setupControls} from "./controls.js";
import {power, renderDashboard} from "./dashboard.js";
import {renderEditors, setupEditors} from "./editors.js";
import {field} from "./format.js";
import {renderHistory, renderSessions, seen} from "./history.js";
import {renderPrices} from "./prices.js";
import {renderTwcs} from "./twcs.js";

const POLL_MS = 2000;
const SLOW_MS = 60000;
const sites = new Map(); // site name -> its <section>
let timer = null;
let slowAt = 0;

const $ = (id) => document.getElementById(id);

function siteSection(name) {
  let section = sites.get(name);
  if (section) return section;
  section = $("site-template").content.firstElementChild.cloneNode(true);
  section.dataset.site = name;
  if (sites.size) {  // the first site has the ids the top links go to; the others their own
    for (const e of section.querySelectorAll("[id]")) e.id = `${e.id}-${name}`;
  }
  section.setAttribute("aria-labelledby", `site-${name}`);
  const h = section.querySelector(".site-name");
  h.textContent = `Site ${name}`;
  h.id = `site-${name}`;
  for (const input of section.querySelectorAll("form[data-field=charge-form] input")) {
    input.id = `${name}-${input.name}`;
  }
  for (const input of section.querySelectorAll("form[data-field=action-form] [name]")) {
    input.id = `${name}-${input.name}`;
  }
  setupControls(section, name);
  setupEditors(section, name);
  $("sites").append(section);
  sites.set(name, section);
  applyRole();
  return section;
}

function render(s) {
  const section = siteSection(s.site);
  renderDashboard(section, s);
  renderPrices(section, s);
  seen(s, power(s).charging);
  renderTwcs(section, s.site, s);
  renderControls(section, s);
  renderEditors(section, s);
  return section;
}

// A read-only token: the controls are hidden, their fieldsets disabled (the API refuses
// their requests anyway).
function applyRole() {
  const ro = readOnly();
  document.body.classList.toggle("read-only", ro);
  $("role").textContent = ro ? "read-only" : "admin";
  for (const fs of document.querySelectorAll("#sites fieldset.control")) fs.disabled = ro;
}

async function refresh() {
  const data = await call("GET", PATHS.status);
  const names = new Set(data.sites.map((s) => s.site));
  for (const [name, section] of sites) {
    if (!names.has(name)) { section.remove(); sites.delete(name); }
  }
  const slow = Date.now() - slowAt > SLOW_MS;
  if (slow) slowAt = Date.now();
  for (const s of data.sites) {
    const section = render(s);
    if (slow) {
      renderHistory(section, s);
      renderSessions(section, s);
    }
  }
  $("sites").setAttribute("aria-busy", "false");
  $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

async function poll() {
  clearTimeout(timer);
  if (!token()) return;
  const offline = $("offline");
  try {
    await refresh();
    offline.hidden = true;
  } catch (e) {
    if (!token()) return;  // a 401: back at the login form
    offline.textContent = `Cannot reach twcm (${e.message}); retrying…`;
    offline.hidden = false;
  }
  timer = setTimeout(poll, POLL_MS);
}

function showLogin(why) {
  clearTimeout(timer);
  for (const section of sites.values()) section.remove();
  sites.clear();
  slowAt = 0;
  document.body.classList.remove("logged-in");
  $("app").hidden = true;
  $("login").hidden = false;
  field($("login"), "login-error").textContent = why || "";
  $("token").focus();
}

function showApp() {
  document.body.classList.add("logged-in");
  $("login").hidden = true;
  $("app").hidden = false;
  applyRole();
  poll();
}

async function setup() {
  whenUnauthorized((why) => showLogin(`Log in again: ${why}`));
  whenChanged(async () => { slowAt = 0; await poll(); });
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const error = field(form, "login-error");
    error.textContent = "";
    form.querySelector("button").disabled = true;
    try {
      await login(form.elements.token.value.trim(), form.elements.remember.checked);
      form.reset();
      showApp();
    } catch (e) {
      error.textContent = e.status === 401 || e.status === 403
        ? `That token is not valid (${e.message}).` : `Cannot log in: ${e.message}`;
    } finally {
      form.querySelector("button").disabled = false;
    }
  });
  $("logout").addEventListener("click", () => { forget(); showLogin("Logged out."); });
  // The chart is drawn for its box's width: again at the next poll when that changes.
  let width = window.innerWidth;
  window.addEventListener("resize", () => {
    if (Math.abs(window.innerWidth - width) > 40) { width = window.innerWidth; slowAt = 0; }
  });
  if (token()) showApp(); else if (!(await fromAddress())) showLogin("");
}

/** `twcm demo` opens the page as /#token=...: log in with it (for this tab only) and take
 * it out of the address, so that it is neither bookmarked nor shown. */
async function fromAddress() {
  const given = new URLSearchParams(location.hash.slice(1)).get("token");
  if (!given) return false;
  history.replaceState(null, "", location.pathname + location.search);
  try {
    await login(given, false);
    showApp();
  } catch (e) {
    showLogin(`The token in the address is not valid (${e.message}).`);
  }
  return true;
}

setup();
