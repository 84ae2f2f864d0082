// The dashboard: a sign-in view for anonymous visitors, then a hash router over five pages,
// each refreshed live as blocks commit and showing what the signed-in member may read.
import { ApiError, el, errorBox, getJson } from "./api.js";
import { loginCodeIn, signInWithCode, signOut } from "./auth.js";
import { LiveStream } from "./live.js";
import { describe, end, nameSession, restore, session, sessionEvents } from "./session.js";
import { showSignIn } from "./signin.js";
import * as overview from "./pages/overview.js";
import * as market from "./pages/market.js";
import * as energy from "./pages/energy.js";
import * as chain from "./pages/chain.js";
import * as results from "./pages/results.js";
import * as governance from "./pages/governance.js";

const PAGES = { overview, market, energy, chain, results, governance };
const root = document.getElementById("page");
const live = new LiveStream(document.getElementById("connection"));
let current = null;
let generation = 0;
/** Set when a block came (or the stream opened) while no page could refresh: the page being
 * mounted may have read the node before that block, so it refreshes once when mounted. */
let missedBlocks = false;

/** Run `refresh` at most once at a time; calls that come meanwhile run once afterwards. */
function coalesce(refresh) {
  let running = false;
  let again = false;
  return async function run() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await refresh();
      } while (again);
    } finally {
      running = false;
    }
  };
}

async function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  const name = PAGES[parts[0]] ? parts[0] : "overview";
  const params = parts.slice(1).map(decodeURIComponent);
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.dataset.page === name);
  }
  if (current && current.dispose) current.dispose();
  current = null;
  missedBlocks = false;
  const mine = ++generation;
  const body = el("div", { class: "page", "data-page": name });
  const notice = el("div", { class: "notice" });
  root.replaceChildren(notice, body);
  body.append(el("p", { class: "loading" }, "Loading…"));
  const context = { body, params, live, notice, session: session() };
  try {
    const page = await PAGES[name].mount(context);
    if (mine !== generation) return;
    current = page;
    page.refreshLive = coalesce(async () => {
      try {
        await page.refresh();
        notice.replaceChildren();
      } catch (error) {
        notice.replaceChildren(errorBox(error));
      }
    });
    // blocks that committed while the page was loading (or before the stream opened)
    if (missedBlocks) {
      missedBlocks = false;
      page.refreshLive();
    }
  } catch (error) {
    if (mine !== generation) return;
    body.replaceChildren(errorBox(error));
  }
}

function refreshOrRemember() {
  if (current && current.refreshLive) current.refreshLive();
  else missedBlocks = true;
}

live.addEventListener("block", (event) => {
  if (current && current.onBlock) current.onBlock(event.detail);
  refreshOrRemember();
});
// The stream only carries blocks committed after it opened: anything committed between the
// page's first reads and the subscription is caught by one refresh when it opens.
live.addEventListener("connected", refreshOrRemember);
live.addEventListener("reconnected", () => route());
live.addEventListener("lost", () => {
  if (current && current.refreshLive) current.refreshLive();
  // A stream refused at the upgrade looks like a lost connection (the browser hides the
  // 401): one small authenticated read tells, and a 401 ends the session (api.js).
  if (session()) getJson("/v1/blocks?limit=1").catch(() => {});
});
live.addEventListener("refused", (event) => {
  end("refused", `Your session has ended (the node closed the live stream: ${event.detail}). Sign in again.`);
});

/** The dashboard, for the session in force. */
function enter() {
  const now = session();
  if (!now) return leave("Sign in to see the dashboard.");
  document.body.dataset.signedIn = "yes";
  document.body.dataset.role = now.role;
  document.getElementById("who-text").textContent = `signed in as ${describe(now)}`;
  document.getElementById("who").hidden = false;
  if (!now.name) {
    getJson(`/v1/members/${now.address}`)
      .then((member) => member && nameSession(member.name))
      .catch(() => {});
  }
  live.start();
  route();
}

/** Back to the sign-in view, saying why; nothing of the session stays on the page. */
function leave(message, kind = "info") {
  generation += 1;
  if (current && current.dispose) current.dispose();
  current = null;
  live.stop();
  document.body.dataset.signedIn = "no";
  delete document.body.dataset.role;
  document.getElementById("who").hidden = true;
  document.getElementById("who-text").textContent = "";
  for (const link of document.querySelectorAll("nav a")) link.classList.remove("active");
  showSignIn(root, message, kind);
}

/** A one-time login link (#login=CODE): take the code out of the address, then sign in. */
async function loginFromLink() {
  const code = loginCodeIn(location.hash);
  history.replaceState(null, "", `${location.pathname}${location.search}#/overview`);
  if (session()) await signOut(); // a link for another member replaces this session
  leave("Signing in with the login link…");
  try {
    await signInWithCode(code);
  } catch (error) {
    const why = error instanceof ApiError && error.status !== 0
      ? `That login link cannot sign you in: ${error.message} (${error.code}). Links work once, for a few minutes: make a new one.`
      : `Signing in failed: ${error.message}`;
    leave(why, "error");
  }
}

sessionEvents.addEventListener("begun", () => enter());
sessionEvents.addEventListener("named", (event) => {
  document.getElementById("who-text").textContent = `signed in as ${describe(event.detail)}`;
});
sessionEvents.addEventListener("ended", (event) => {
  const { reason, message } = event.detail;
  leave(message, reason === "signed_out" ? "info" : "error");
});
document.getElementById("sign-out").addEventListener("click", () => signOut());

window.addEventListener("hashchange", () => {
  if (/^#login=/.test(location.hash)) loginFromLink();
  else if (session()) route();
});

getJson("/v1/head")
  .then((head) => {
    if (head && head.chain_id) document.getElementById("chain-id").textContent = head.chain_id;
  })
  .catch(() => {});

if (/^#login=/.test(location.hash)) loginFromLink();
else if (restore()) enter();
else leave(null);

// Keep the page's own files for a reload while the node is down (secure contexts only).
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("sw.js").catch(() => {});
}
