// The signed-in session: the node's bearer token with the address and role it stands for.
//
// Only the session is kept, never a key: the key file's seed is dropped as soon as it has
// signed the node's challenge (see auth.js). The session lives in this module and, so that
// a reload of the tab (or the offline reload the service worker makes possible) does not
// ask to sign in again, in this tab's sessionStorage: it is the tab's alone (not shared
// with other tabs or windows), gone when the tab is closed, and removed on "Sign out" and
// as soon as the node refuses the token. Its expiry is the node's to judge (by the node's
// clock, which need not agree with this computer's): an expired token is answered 401,
// which ends the session here.
// A script that could read it could as well use it from memory; the token is short-lived
// and revoked by DELETE /v1/auth/session. Nothing is ever written to localStorage or
// IndexedDB.

const STORAGE_KEY = "gridledger-session";

/** Fired with detail {reason, message} when the session ends (signed out, expired, refused). */
export const sessionEvents = new EventTarget();

let current = null;

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the session is kept in memory only
  }
}

function valid(value) {
  return (
    value &&
    typeof value.token === "string" &&
    value.token &&
    typeof value.address === "string" &&
    typeof value.role === "string"
  );
}

/** The session in force, or null. */
export function session() {
  return current;
}

/** The bearer token to send, or null when signed out. */
export function bearer() {
  const now = session();
  return now ? now.token : null;
}

/** Start a session from the node's reply to POST /v1/auth/session. */
export function begin(reply, name = null) {
  current = {
    token: reply.token,
    address: reply.address,
    role: reply.role,
    name: reply.name || name || null,
    expiresAtMs: reply.expires_at_ms,
  };
  save();
  sessionEvents.dispatchEvent(new CustomEvent("begun", { detail: current }));
  return current;
}

/** Record the member's name once it is known (the session reply may not carry it). */
export function nameSession(name) {
  if (!current || !name || current.name === name) return;
  current.name = name;
  save();
  sessionEvents.dispatchEvent(new CustomEvent("named", { detail: current }));
}

function save() {
  const store = storage();
  if (!store || !current) return;
  try {
    store.setItem(STORAGE_KEY, JSON.stringify(current));
  } catch {
    // a full or disabled storage: keep the session in memory only
  }
}

/** The session this tab kept across a reload, if any. */
export function restore() {
  const store = storage();
  if (!store) return null;
  let kept = null;
  try {
    kept = JSON.parse(store.getItem(STORAGE_KEY) || "null");
  } catch {
    kept = null;
  }
  if (!valid(kept)) {
    store.removeItem(STORAGE_KEY);
    return null;
  }
  current = kept;
  return current;
}

/** Forget the session everywhere; say why to whoever listens. */
export function end(reason, message) {
  const had = current !== null;
  current = null;
  const store = storage();
  if (store) store.removeItem(STORAGE_KEY);
  if (had) sessionEvents.dispatchEvent(new CustomEvent("ended", { detail: { reason, message } }));
}

/** Who is signed in, for people: "carol / gl12ab… (consumer)". */
export function describe(now = current) {
  if (!now) return "";
  const shortAddress = now.address.length > 14 ? `${now.address.slice(0, 12)}…` : now.address;
  return `${now.name ? `${now.name} / ` : ""}${shortAddress} (${now.role})`;
}

/** Operator, regulator and consortium peers read everything, as auditors ("public": a
 * node serving public reads for a demonstration). */
export const AUDITOR_ROLES = ["operator", "regulator", "peer", "public"];
export const isAuditor = (now = current) => Boolean(now && AUDITOR_ROLES.includes(now.role));
