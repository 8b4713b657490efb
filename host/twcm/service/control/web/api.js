// The REST API of `twcm run` as the page uses it (docs/api.md): the token, the paths, and
// one call() that sends the token as an `Authorization: Bearer` header.
//
// The token is never a cookie: a page of another site can make the browser send a request
// here, but not add this header, so it cannot act with the user's rights. It is kept in
// sessionStorage (gone with the tab), or localStorage when the user asks to be remembered.

const KEY = "twcm.token";
const ROLE = "twcm.role";

let onUnauthorized = () => {};

/** Called with a reason whenever the API answers 401 (the token is then forgotten). */
export function whenUnauthorized(fn) { onUnauthorized = fn; }

export function token() {
  return sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
}

export function readOnly() {
  return (sessionStorage.getItem(ROLE) || localStorage.getItem(ROLE)) !== "admin";
}

export function forget() {
  for (const store of [sessionStorage, localStorage]) {
    store.removeItem(KEY);
    store.removeItem(ROLE);
  }
}

function keep(value, role, remember) {
  forget();
  const store = remember ? localStorage : sessionStorage;
  store.setItem(KEY, value);
  store.setItem(ROLE, role);
}

/** The text of an API error: {"error": "..."} or FastAPI's {"detail": ...}. */
export function message(data, status) {
  if (data && typeof data.error === "string") return data.error;
  if (data && typeof data.detail === "string") return data.detail;
  if (data && Array.isArray(data.detail)) {
    return data.detail.map((d) => {
      const where = (d.loc || []).filter((x) => x !== "body").join(".");
      return where ? `${where}: ${d.msg}` : d.msg;
    }).join("; ");
  }
  return `the API answered ${status}`;
}

export class ApiError extends Error {
  constructor(status, data) {
    super(message(data, status));
    this.status = status;
    this.data = data;
  }
}

/** One request; resolves to the answer's JSON, rejects with ApiError (or a network error). */
export async function call(method, path, body) {
  const headers = {};
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const init = {method, headers, cache: "no-store", credentials: "omit"};
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const r = await fetch(path, init);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (r.status === 401 && path !== PATHS.login) {
    forget();
    onUnauthorized(message(data, r.status));
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

/** Check a token with POST /api/login; keep it (and its role) if it is good. */
export async function login(value, remember) {
  const headers = {"Content-Type": "application/json", Authorization: `Bearer ${value}`};
  const r = await fetch(PATHS.login, {method: "POST", headers, cache: "no-store",
                                      credentials: "omit", body: JSON.stringify({token: value})});
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) throw new ApiError(r.status, data);
  const role = data && data.kind === "admin" ? "admin" : "read_only";
  keep(value, role, remember);
  return role;
}

const site = (name) => `/api/sites/${encodeURIComponent(name)}`;
const twc = (name, id) => `${site(name)}/twcs/${encodeURIComponent(id)}`;

export const PATHS = {
  login: "/api/login",
  status: "/api/status",
  history: (name, start, end) =>
    `${site(name)}/history?start=${start}&end=${end}`,
  sessions: "/api/sessions",
};

/** Every change the page can ask for, one function each (docs/api.md has the paths). */
export const change = {
  chargeNow: (name, amps, minutes) => call("POST", `${site(name)}/charge_now`, {amps, minutes}),
  cancelChargeNow: (name) => call("DELETE", `${site(name)}/charge_now`),
  nonScheduled: (name, action, amps) =>
    call("PUT", `${site(name)}/non_scheduled`, {action, amps}),
  schedule: (name, windows) => call("PUT", `${site(name)}/schedule`, {windows}),
  // The whole list at once, replaced in one change (POST/DELETE .../consumption_offsets
  // change one offset at a time).
  offsets: (name, list) => call("PATCH", `${site(name)}/settings`, {consumption_offsets: list}),
  // A fragment of [site.policy], green's keys as {"green": {...}}: checked as a whole.
  settings: (name, changes) => call("PATCH", `${site(name)}/settings`, changes),
  cap: (name, id, amps) => call("PUT", `${twc(name, id)}/cap`, {amps}),
  charging: (name, id, charging) => call("PUT", `${twc(name, id)}/charging`, {charging}),
};
