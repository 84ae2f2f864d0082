// The dashboard: a hash router over five pages, each refreshed live as blocks commit.
import { el, errorBox, getJson } from "./api.js";
import { LiveStream } from "./live.js";
import * as overview from "./pages/overview.js";
import * as market from "./pages/market.js";
import * as energy from "./pages/energy.js";
import * as chain from "./pages/chain.js";
import * as results from "./pages/results.js";

const PAGES = { overview, market, energy, chain, results };
const root = document.getElementById("page");
const live = new LiveStream(document.getElementById("connection"));
let current = null;
let generation = 0;

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
  const mine = ++generation;
  const body = el("div", { class: "page", "data-page": name });
  const notice = el("div", { class: "notice" });
  root.replaceChildren(notice, body);
  body.append(el("p", { class: "loading" }, "Loading…"));
  const context = { body, params, live, notice };
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
  } catch (error) {
    if (mine !== generation) return;
    body.replaceChildren(errorBox(error));
  }
}

live.addEventListener("block", (event) => {
  if (current && current.onBlock) current.onBlock(event.detail);
  if (current && current.refreshLive) current.refreshLive();
});
live.addEventListener("reconnected", () => route());
live.addEventListener("lost", () => {
  if (current && current.refreshLive) current.refreshLive();
});
window.addEventListener("hashchange", route);

getJson("/v1/head")
  .then((head) => {
    document.getElementById("chain-id").textContent = head.chain_id;
  })
  .catch(() => {});
live.start();
route();

// Keep the page's own files for a reload while the node is down (secure contexts only).
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("sw.js").catch(() => {});
}
