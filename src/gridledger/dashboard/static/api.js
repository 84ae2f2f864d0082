// Reading the node's API, and formatting its integers for people.
// The API speaks energy_wh, amount_micro and price_micro_per_kwh; the page shows kWh and
// currency units (1 unit = 1,000,000 micro-units).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function getJson(path, init = {}) {
  let response;
  try {
    response = await fetch(path, { cache: "no-store", ...init });
  } catch (error) {
    throw new ApiError(
      0,
      "unreachable",
      `Cannot reach the node at ${location.origin} (${error.message}). Is it running?`,
    );
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const code = body && body.error ? body.error : "http_error";
    const message = body && body.message ? body.message : `HTTP ${response.status}`;
    throw new ApiError(response.status, code, message);
  }
  return body;
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
