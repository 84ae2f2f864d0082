// Reading the node's API, and formatting its integers for people.
// The API speaks energy_wh, amount_micro and price_micro_per_kwh; the page shows kWh and
// currency units (1 unit = 1,000,000 micro-units).
import { bearer, end } from "./session.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Other members' data the node keeps from this caller (403), said plainly. */
export const PRIVATE_NOTE = "Other members' details are private: you see your own and the community's totals.";

/**
 * Fetch `path` from the node with the session's bearer token. A 401 to a request that
 * carried a token means the session is over (expired, signed out elsewhere, node
 * restarted): the session is ended, which takes the page back to the sign-in view.
 */
export async function request(path, init = {}) {
  const token = bearer();
  const headers = new Headers(init.headers || {});
  if (token && !headers.has("Authorization")) headers.set("Authorization", `Bearer ${token}`);
  let response;
  try {
    response = await fetch(path, { cache: "no-store", ...init, headers });
  } catch (error) {
    throw new ApiError(
      0,
      "unreachable",
      `Cannot reach the node at ${location.origin} (${error.message}). Is it running?`,
    );
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    const code = body && body.error ? body.error : "http_error";
    let message = body && body.message ? body.message : `HTTP ${response.status}`;
    if (response.status === 403) message = `${message} ${PRIVATE_NOTE}`;
    const error = new ApiError(response.status, code, message);
    if (response.status === 401 && token && token === bearer()) {
      end("refused", `Your session has ended (the node says: ${message}). Sign in again.`);
    }
    throw error;
  }
  return response;
}

export async function getJson(path, init = {}) {
  const response = await request(path, init);
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** POST `body` as JSON; the reply's JSON. */
export const postJson = (path, body) =>
  getJson(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

/** A file the node serves behind sign-in, as an object URL for <img src> or a download. */
export async function blobUrl(path) {
  const response = await request(path);
  return URL.createObjectURL(await response.blob());
}

/** The body of `path`, or `fallback` when the node answers 404 (a route it does not have). */
export async function getOptional(path, fallback = null) {
  try {
    return await getJson(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return fallback;
    throw error;
  }
}

const number = (value, digits) =>
  value.toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const kwh = (wh) => (wh === null || wh === undefined ? "—" : `${number(wh / 1000, 3)} kWh`);
export const units = (micro) =>
  micro === null || micro === undefined ? "—" : `${number(micro / 1e6, 2)} units`;
export const price = (microPerKwh) =>
  microPerKwh === null || microPerKwh === undefined
    ? "—"
    : `${number(microPerKwh / 1e6, 3)} units/kWh`;
export const percent = (value) => (value === null || value === undefined ? "—" : `${value}%`);
export const short = (hex, n = 10) => (hex && hex.length > n + 2 ? `${hex.slice(0, n)}…` : hex);
export const utc = (ms) => `${new Date(ms).toISOString().replace("T", " ").slice(0, 19)} UTC`;
export const hourOf = (seconds) => new Date(seconds * 1000).toISOString().slice(11, 16);
export const dayHour = (seconds) =>
  new Date(seconds * 1000).toISOString().replace("T", " ").slice(5, 16);

/** Build an element: el("td", {class: "num"}, "text", otherNode). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A table from column titles and rows of cells (strings or nodes). */
export function table(columns, rows, attributes = {}) {
  return el(
    "table",
    attributes,
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", {}, c)))),
    el(
      "tbody",
      {},
      rows.length
        ? rows.map((row) => el("tr", {}, row.map((cell) => el("td", {}, cell))))
        : el("tr", {}, el("td", { colspan: columns.length, class: "muted" }, "none")),
    ),
  );
}

export const card = (title, ...children) =>
  el("section", { class: "card" }, el("h2", {}, title), ...children);

export const stat = (label, value, note) =>
  el("div", { class: "stat" }, el("div", { class: "label" }, label), el("div", { class: "value" }, value), note ? el("div", { class: "note muted" }, note) : null);

export function errorBox(error) {
  const text = error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`;
  const code = error instanceof ApiError ? ` (${error.code})` : "";
  return el("div", { class: "error", role: "alert" }, `${text}${code}`);
}
